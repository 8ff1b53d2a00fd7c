import { DynamicModule, Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { createSqlPool, SqlPool } from './pool';

@Injectable()
class PoolCloser implements OnApplicationShutdown {
  constructor(private readonly pool: SqlPool) {}

  // Last of all shutdown work, so in-flight handlers can still write.
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/** Makes one pg pool injectable app-wide (`constructor(private readonly pool: SqlPool)`). */
@Global()
@Module({})
export class SqlModule {
  static forRoot(databaseUrl: string, poolSize?: number): DynamicModule {
    return {
      module: SqlModule,
      providers: [{ provide: SqlPool, useFactory: () => createSqlPool(databaseUrl, poolSize) }, PoolCloser],
      exports: [SqlPool],
    };
  }
}
