import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { createPrismaClient, PrismaClient } from './client';

@Injectable()
class PrismaDisconnector implements OnApplicationShutdown {
  constructor(@Inject(PrismaClient) private readonly prisma: PrismaClient) {}

  // Last of all shutdown work, so in-flight handlers can still write.
  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}

/** Makes one PrismaClient injectable app-wide (`constructor(private readonly prisma: PrismaClient)`). */
@Global()
@Module({})
export class PrismaModule {
  static forRoot(databaseUrl: string, poolSize?: number): DynamicModule {
    return {
      module: PrismaModule,
      providers: [{ provide: PrismaClient, useFactory: () => createPrismaClient(databaseUrl, poolSize) }, PrismaDisconnector],
      exports: [PrismaClient],
    };
  }
}
