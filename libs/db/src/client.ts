import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient } from './generated/prisma/client';

/**
 * The node-postgres pool under a service's PrismaClient. Hot paths run their statements on it directly
 * (named, prepared, multi-row), since every Prisma call pays its query compiler; Prisma stays the
 * schema, the migrations and the typed client everywhere else. Injectable as `SqlPool`.
 */
export abstract class SqlPool extends Pool {}

export interface Database {
  prisma: PrismaClient;
  pool: SqlPool;
}

/** Prisma over node-postgres (Prisma 7's query side needs no native engine this way), sharing one pool with raw SQL. */
export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize }) as SqlPool;
  // An idle client's error (server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return { pool, prisma: new PrismaClient({ adapter: new PrismaPg(pool) }) };
}

/** A PrismaClient that owns its pool (`$disconnect` closes it): for tools and tests that need no raw SQL. */
export function createPrismaClient(databaseUrl: string, poolSize = 10): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

/** True when the database answers a trivial query; used by readiness checks. */
export async function databaseIsReachable(prisma: PrismaClient): Promise<boolean> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    return true;
  } catch {
    return false;
  }
}
