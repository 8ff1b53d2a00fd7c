import { PrismaPg } from '@prisma/adapter-pg';
import { createSqlPool, SqlPool } from '@pinflow/sql';
import { PrismaClient } from './generated/prisma/client';

export { Prisma, PrismaClient } from './generated/prisma/client';

export interface Database {
  prisma: PrismaClient;
  pool: SqlPool;
}

/** Prisma over node-postgres (Prisma 7's query side needs no native engine this way), sharing one pool with raw SQL. */
export function createDatabase(databaseUrl: string, poolSize = 10): Database {
  const pool = createSqlPool(databaseUrl, poolSize);
  return { pool, prisma: new PrismaClient({ adapter: new PrismaPg(pool) }) };
}

/** A PrismaClient that owns its pool (`$disconnect` closes it): for tools and tests that need no raw SQL. */
export function createPrismaClient(databaseUrl: string, poolSize = 10): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
