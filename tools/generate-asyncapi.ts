import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderAsyncApi } from '../libs/contracts/src/asyncapi-document';
import { repoRoot } from '@pinflow/testing';

const target = path.join(repoRoot, 'libs/contracts/asyncapi.yaml');
writeFileSync(target, renderAsyncApi());
console.log(`wrote ${path.relative(repoRoot, target)}`);
