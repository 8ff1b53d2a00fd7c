import { createScratchDatabase, testEnv } from '@pinflow/testing';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { defaultMigrationsDir, migrateDeploy } from './migrate';

/** The repository's migrations before the one named, in a throwaway directory: a database as it stood then. */
export function migrationsBefore(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-migrations-'));
  for (const entry of readdirSync(defaultMigrationsDir())) {
    if (entry < name || entry === 'migration_lock.toml') cpSync(path.join(defaultMigrationsDir(), entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

/** A scratch database as it stood before `migration`, for a spec that writes rows then runs the rest. */
export interface DatabaseBeforeMigration {
  /** Connected for the whole spec. */
  readonly db: Client;
  /** Applies `migration` and every later one. */
  migrate(): Promise<void>;
  /** Applies `migration` alone, so that later ones (new columns) do not change what it is checked against. */
  migrateThisOnly(): Promise<void>;
}

/**
 * In a describe block: a scratch database (named after `prefix`) with the migrations before `migration`
 * applied, created before its specs and dropped after them.
 */
export function databaseBeforeMigration(migration: string, prefix: string): DatabaseBeforeMigration {
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let before: string | undefined;
  let db: Client | undefined;

  beforeAll(async () => {
    database = await createScratchDatabase(testEnv().databaseUrl, prefix);
    before = migrationsBefore(migration);
    await migrateDeploy(database.url, before);
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await database?.drop();
    if (before) rmSync(before, { recursive: true, force: true });
  });

  return {
    get db() {
      if (!db) throw new Error('the database exists only while the specs run');
      return db;
    },
    migrate: async () => {
      await migrateDeploy(database!.url, defaultMigrationsDir());
    },
    migrateThisOnly: async () => {
      cpSync(path.join(defaultMigrationsDir(), migration), path.join(before!, migration), { recursive: true });
      await migrateDeploy(database!.url, before!);
    },
  };
}
