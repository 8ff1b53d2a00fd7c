import { testEnv } from '@pinflow/testing';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createScratchDatabase, ScratchDatabase } from '@pinflow/testing';
import { defaultMigrationsDir, migrateDeploy } from './migrate';

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const history = (url: string) => query<MigrationRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name');

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A throwaway migrations directory, laid out as Prisma expects. */
function migrationsDir(migrations: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-migrations-'));
  writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe('migrateDeploy, the stand-in for `prisma migrate deploy`', () => {
  const scratch: ScratchDatabase[] = [];
  const tempDirs: string[] = [];

  async function freshDatabase(): Promise<string> {
    const database = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_migrate');
    scratch.push(database);
    return database.url;
  }

  function tempMigrations(migrations: Record<string, string>): string {
    const dir = migrationsDir(migrations);
    tempDirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    await Promise.all(scratch.map((database) => database.drop()));
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('applies every migration of the repository to a fresh database and records each as Prisma does', async () => {
    const url = await freshDatabase();
    const dir = defaultMigrationsDir();
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();

    const { applied } = await migrateDeploy(url, dir);

    expect(applied).toEqual(names);
    const rows = await history(url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      expect(row).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        checksum: sha256(path.join(dir, row.migration_name, 'migration.sql')),
        finished_at: expect.any(Date),
        migration_name: row.migration_name,
        logs: null,
        rolled_back_at: null,
        started_at: expect.any(Date),
        applied_steps_count: 1,
      });
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
  });

  it('creates _prisma_migrations with the columns Prisma Migrate creates', async () => {
    const url = await freshDatabase();
    await migrateDeploy(url, tempMigrations({ '20260101000000_one': 'CREATE TABLE one (id integer);' }));

    const columns = await query<{ column_name: string; type: string; is_nullable: string; column_default: string | null }>(
      url,
      `SELECT column_name, COALESCE(data_type || '(' || character_maximum_length || ')', data_type) AS type, is_nullable, column_default
       FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    const primaryKey = await query<{ column_name: string }>(
      url,
      `SELECT kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
       WHERE tc.table_name = '_prisma_migrations' AND tc.constraint_type = 'PRIMARY KEY'`,
    );

    expect(columns).toEqual([
      { column_name: 'id', type: 'character varying(36)', is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', type: 'character varying(64)', is_nullable: 'NO', column_default: null },
      { column_name: 'finished_at', type: 'timestamp with time zone', is_nullable: 'YES', column_default: null },
      { column_name: 'migration_name', type: 'character varying(255)', is_nullable: 'NO', column_default: null },
      { column_name: 'logs', type: 'text', is_nullable: 'YES', column_default: null },
      { column_name: 'rolled_back_at', type: 'timestamp with time zone', is_nullable: 'YES', column_default: null },
      { column_name: 'started_at', type: 'timestamp with time zone', is_nullable: 'NO', column_default: 'now()' },
      { column_name: 'applied_steps_count', type: 'integer', is_nullable: 'NO', column_default: '0' },
    ]);
    expect(primaryKey).toEqual([{ column_name: 'id' }]);
  });

  it('applies nothing on a second run, and only a newly added migration on the run after', async () => {
    const url = await freshDatabase();
    const first = { '20260101000000_one': 'CREATE TABLE one (id integer);' };
    await migrateDeploy(url, tempMigrations(first));
    const before = await history(url);

    const again = await migrateDeploy(url, tempMigrations(first));

    expect(again.applied).toEqual([]);
    expect(await history(url)).toEqual(before);

    const grown = await migrateDeploy(url, tempMigrations({ ...first, '20260101000100_two': 'CREATE TABLE two (id integer);' }));

    expect(grown.applied).toEqual(['20260101000100_two']);
    expect((await history(url)).map((row) => row.migration_name)).toEqual(['20260101000000_one', '20260101000100_two']);
  });

  it('records a migration that fails and refuses to go on until someone resolves it (P3018, then P3009)', async () => {
    const url = await freshDatabase();
    const dir = tempMigrations({
      '20260101000000_good': 'CREATE TABLE good (id integer);',
      '20260101000100_broken': 'CREATE TABLE broken (id integer);\nSELECT no_such_column FROM good;',
      '20260101000200_after': 'CREATE TABLE after_broken (id integer);',
    });

    await expect(migrateDeploy(url, dir)).rejects.toThrow(/^P3018: migration 20260101000100_broken failed/);

    const rows = await history(url);
    expect(rows.map((row) => [row.migration_name, row.finished_at === null, row.applied_steps_count])).toEqual([
      ['20260101000000_good', false, 1],
      ['20260101000100_broken', true, 0],
    ]);
    expect(rows[1].logs).toMatch(/no_such_column/);
    // The failed script ran as one implicit transaction: its first statement left nothing behind.
    expect(await query(url, "SELECT 1 FROM information_schema.tables WHERE table_name IN ('broken', 'after_broken')")).toEqual([]);

    await expect(migrateDeploy(url, dir)).rejects.toThrow(/^P3009: .*20260101000100_broken/);
    expect(await history(url)).toEqual(rows);
  });

  it('refuses a database that has tables but no migration history (P3005) and leaves it untouched', async () => {
    const url = await freshDatabase();
    await query(url, 'CREATE TABLE legacy (id integer)');

    await expect(migrateDeploy(url, tempMigrations({ '20260101000000_one': 'CREATE TABLE one (id integer);' }))).rejects.toThrow(/^P3005:/);

    const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables).toEqual([{ table_name: 'legacy' }]);
  });
});
