import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { asyncApiDocument } from '@pinflow/contracts';
import { repoRoot } from './platform/paths';

export const ASYNCAPI_FILE = path.join(repoRoot, 'libs/contracts/asyncapi.yaml');

export function renderAsyncApi(): string {
  return `# Generated from libs/contracts by \`npm run contracts:doc\`; do not edit.\n${stringify(asyncApiDocument(), { aliasDuplicateObjects: false })}`;
}

if (require.main === module) {
  writeFileSync(ASYNCAPI_FILE, renderAsyncApi());
  console.log(`wrote ${path.relative(repoRoot, ASYNCAPI_FILE)}`);
}
