import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

// The same lock id Prisma Migrate takes, so this and `prisma migrate deploy` never run at once.
const PRISMA_MIGRATE_LOCK = 72707369;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

export interface MigrationReport {
  applied: string[];
}

/**
 * `prisma migrate deploy` without Prisma's native schema engine (which cannot be downloaded on every
 * machine). Mirrors the engine step by step, so `_prisma_migrations` records are identical and a
 * database stays interchangeable with one migrated by Prisma itself.
 */
export async function migrateDeploy(databaseUrl: string, migrationsDir: string): Promise<MigrationReport> {
  const schema = new URL(databaseUrl).searchParams.get('schema') ?? 'public';
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema.replace(/"/g, '""')}"`);
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    try {
      return await applyPending(client, schema, migrationsDir);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(client: Client, schema: string, migrationsDir: string): Promise<MigrationReport> {
  const lockFile = path.join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /provider\s*=\s*"([^"]+)"/.exec(readFileSync(lockFile, 'utf8'))?.[1];
    if (provider !== 'postgresql') throw new Error(`P3019: migrations were written for ${provider}, not postgresql`);
  }
  const { rows: tables } = await client.query<{ table_name: string }>(
    `SELECT tbl.relname AS table_name FROM pg_class AS tbl
     INNER JOIN pg_namespace AS namespace ON namespace.oid = tbl.relnamespace
     WHERE tbl.relkind = 'r' AND namespace.nspname = ANY ($1)`,
    [[schema]],
  );
  const names = tables.map((table) => table.table_name);
  if (!names.includes('_prisma_migrations')) {
    if (names.length > 0) throw new Error('P3005: the database schema is not empty and has no migration history');
    await client.query(CREATE_MIGRATIONS_TABLE);
  }
  const { rows: history } = await client.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
    'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at ASC',
  );
  const failed = history.filter((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed.length > 0) throw new Error(`P3009: failed migrations need attention: ${failed.map((row) => row.migration_name).join(', ')}`);
  const done = new Set(history.filter((row) => row.rolled_back_at === null).map((row) => row.migration_name));

  const pending = readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .filter((name) => !done.has(name));

  for (const name of pending) {
    const script = readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
    const checksum = createHash('sha256').update(script, 'utf8').digest('hex');
    const id = randomUUID();
    await client.query('INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)', [id, checksum, new Date(), name]);
    try {
      await client.query(script);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await client.query('UPDATE _prisma_migrations SET logs = $1 WHERE id = $2', [message, id]);
      throw new Error(`P3018: migration ${name} failed: ${message}`);
    }
    await client.query('UPDATE _prisma_migrations SET applied_steps_count = (applied_steps_count + 1) WHERE id = $1', [id]);
    await client.query('UPDATE _prisma_migrations SET finished_at = $1 WHERE id = $2', [new Date(), id]);
  }
  return { applied: pending };
}

/** prisma/migrations of this repository, from source or from dist/. */
export function defaultMigrationsDir(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'prisma', 'migrations'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('prisma/migrations not found above ' + __dirname);
    dir = parent;
  }
  return path.join(dir, 'prisma', 'migrations');
}
