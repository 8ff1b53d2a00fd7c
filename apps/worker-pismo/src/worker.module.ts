import { DynamicModule, Module } from '@nestjs/common';
import { databaseIsReachable, PrismaClient, PrismaModule } from '@pinflow/db';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { KafkaModule, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { loadPinKeyRing, PinKeyRing } from '@pinflow/pin-crypto';
import { CommandProcessor } from './command-processor';
import { CommandStore } from './command-store';
import { WORKER_CONFIG, WorkerConfig } from './config';
import { CommandConsumer, PismoEventConsumer } from './consumers';
import { PismoClient } from './pismo/pismo-client';
import { RetryPolicy } from './retry-policy';
import { RETRY_POLICY, WORKER_LOGGER } from './tokens';
import { VendorEventProcessor } from './vendor-event-processor';

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    const logger = createLogger('worker-pismo', config.LOG_LEVEL);
    const retryPolicy: RetryPolicy = { maxAttempts: config.PISMO_MAX_ATTEMPTS, baseDelayMs: config.PISMO_RETRY_BASE_MS };
    return {
      module: WorkerModule,
      imports: [
        httpLoggerModule('worker-pismo', config.LOG_LEVEL),
        PrismaModule.forRoot(config.DATABASE_URL, config.DATABASE_POOL_SIZE),
        KafkaModule.forRoot({
          settings: config,
          clientId: 'pinflow-worker-pismo',
          logger,
          topics: [...pinflowTopicSpecs(config), { topic: config.PISMO_EVENTS_TOPIC, partitions: config.KAFKA_EVENT_PARTITIONS }],
        }),
        HealthModule.register({
          inject: [PrismaClient, CommandConsumer, PismoEventConsumer],
          useFactory: (prisma: PrismaClient, commands: CommandConsumer, pismoEvents: PismoEventConsumer): ReadinessProbe[] => [
            { name: 'database', isReady: () => databaseIsReachable(prisma) },
            { name: 'command-consumer', isReady: () => commands.isHealthy() },
            { name: 'pismo-event-consumer', isReady: () => pismoEvents.isHealthy() },
          ],
        }),
      ],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: WORKER_LOGGER, useValue: logger },
        { provide: RETRY_POLICY, useValue: retryPolicy },
        { provide: PinKeyRing, useFactory: () => loadPinKeyRing(config) },
        {
          provide: PismoClient,
          useFactory: () =>
            new PismoClient({
              pciBaseUrl: config.PISMO_PCI_BASE_URL,
              apiBaseUrl: config.PISMO_API_BASE_URL,
              tokenUrl: config.PISMO_TOKEN_URL,
              clientId: config.PISMO_CLIENT_ID,
              clientSecret: config.PISMO_CLIENT_SECRET,
              timeoutMs: config.PISMO_HTTP_TIMEOUT_MS,
            }),
        },
        CommandStore,
        CommandProcessor,
        VendorEventProcessor,
        CommandConsumer,
        PismoEventConsumer,
      ],
    };
  }
}
