import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { SqlPool } from '@pinflow/sql';
import { createDatabase, Database, PrismaClient } from './client';

const DATABASE = Symbol('DATABASE');

@Injectable()
class DatabaseDisconnector implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  // Last of all shutdown work, so in-flight handlers can still write.
  async onApplicationShutdown(): Promise<void> {
    await this.database.prisma.$disconnect();
    await this.database.pool.end();
  }
}

/**
 * Makes one PrismaClient, and the pg pool under it, injectable app-wide
 * (`constructor(private readonly prisma: PrismaClient, private readonly pool: SqlPool)`).
 */
@Global()
@Module({})
export class PrismaModule {
  static forRoot(databaseUrl: string, poolSize?: number): DynamicModule {
    return {
      module: PrismaModule,
      providers: [
        { provide: DATABASE, useFactory: () => createDatabase(databaseUrl, poolSize) },
        { provide: PrismaClient, useFactory: (database: Database) => database.prisma, inject: [DATABASE] },
        { provide: SqlPool, useFactory: (database: Database) => database.pool, inject: [DATABASE] },
        DatabaseDisconnector,
      ],
      exports: [PrismaClient, SqlPool],
    };
  }
}
