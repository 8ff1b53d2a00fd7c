import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultMigrationsDir } from './migrate';

/** The repository's migrations before the one named, in a throwaway directory: a database as it stood then. */
export function migrationsBefore(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-migrations-'));
  for (const entry of readdirSync(defaultMigrationsDir())) {
    if (entry < name || entry === 'migration_lock.toml') cpSync(path.join(defaultMigrationsDir(), entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}
