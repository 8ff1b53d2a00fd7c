import { Pool } from 'pg';

/**
 * A service's node-postgres pool: the services run their statements on it directly (named, prepared,
 * multi-row), so none of them loads the Prisma client (its import and query compiler cost some 60 MB
 * per process); Prisma stays the schema, the migrations, the row types and the client of tools and
 * tests. Injectable as `SqlPool`.
 */
export abstract class SqlPool extends Pool {}

export function createSqlPool(databaseUrl: string, poolSize = 10): SqlPool {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize }) as SqlPool;
  // An idle client's error (server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** True when the database answers a trivial query; used by readiness checks. */
export async function sqlIsReachable(pool: SqlPool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
