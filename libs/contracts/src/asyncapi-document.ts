import path from 'node:path';
import { stringify } from 'yaml';
import { asyncApiDocument } from './asyncapi';

/** The committed AsyncAPI document, next to this library's sources. */
export const ASYNCAPI_FILE = path.join(__dirname, '..', 'asyncapi.yaml');

export function renderAsyncApi(): string {
  return `# Generated from libs/contracts by \`npm run contracts:doc\`; do not edit.\n${stringify(asyncApiDocument(), { aliasDuplicateObjects: false })}`;
}
