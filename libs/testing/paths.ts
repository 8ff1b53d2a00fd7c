import { existsSync } from 'node:fs';
import path from 'node:path';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/** The repository root, whether running from source (Jest) or from dist/. */
export const repoRoot = findRepoRoot(__dirname);

/** Compiled entry point of an app, e.g. `intake` -> dist/apps/intake/src/main.js. */
export function appEntry(app: string): string {
  return path.join(repoRoot, 'dist', 'apps', app, 'src', 'main.js');
}
