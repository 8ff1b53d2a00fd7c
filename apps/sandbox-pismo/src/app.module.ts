import { BeforeApplicationShutdown, DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { JsonProducer, KafkaModule } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { CallLog } from './call-log';
import { CardRegistry } from './card-registry';
import type { SandboxConfig } from './config';
import { EventOutbox } from './event-outbox';
import { FaultInjector } from './faults';
import { PismoSimulator, SANDBOX_CONFIG } from './pismo-simulator';
import { SandboxController } from './sandbox.controller';
import { TokenIssuer } from './tokens';
import { CardsController, PassportController } from './vendor.controller';
import { BearerTokenGuard, FormBodyMiddleware, unparsableBodyHandler, VendorCallMiddleware } from './vendor-http';

const SERVICE = 'sandbox-pismo';

/** How long a drilled timeout holds its caller unless the knobs say otherwise. */
const DEFAULT_TIMEOUT_HOLD_MS = 30_000;

@Module({})
export class AppModule implements NestModule, BeforeApplicationShutdown {
  static forRoot(config: SandboxConfig): DynamicModule {
    const logger = createLogger(SERVICE, config.LOG_LEVEL);
    return {
      module: AppModule,
      imports: [
        httpLoggerModule(SERVICE, config.LOG_LEVEL),
        KafkaModule.forRoot({
          settings: config,
          clientId: SERVICE,
          logger,
          topics: [{ topic: config.PISMO_EVENTS_TOPIC, partitions: config.PISMO_EVENTS_PARTITIONS }],
        }),
        HealthModule.register({
          inject: [EventOutbox],
          useFactory: (outbox: EventOutbox): ReadinessProbe[] => [{ name: 'kafka', isReady: () => outbox.isReady() }],
        }),
      ],
      controllers: [PassportController, CardsController, SandboxController],
      providers: [
        { provide: SANDBOX_CONFIG, useValue: config },
        { provide: EventOutbox, useFactory: (producer: JsonProducer) => new EventOutbox(producer, config.PISMO_EVENTS_TOPIC, logger), inject: [JsonProducer] },
        { provide: CardRegistry, useFactory: () => new CardRegistry(config.PISMO_DEFAULT_MAX_PASSWORD_TRIES) },
        {
          provide: FaultInjector,
          useFactory: () =>
            new FaultInjector({
              latencyMs: 0,
              latencyJitterMs: 0,
              errorRate: 0,
              timeoutRate: 0,
              timeoutHoldMs: DEFAULT_TIMEOUT_HOLD_MS,
              timeoutApplies: true,
              tokenTtlSeconds: config.SANDBOX_TOKEN_TTL_SECONDS,
              down: false,
            }),
        },
        CallLog,
        TokenIssuer,
        PismoSimulator,
        BearerTokenGuard,
      ],
    };
  }

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly outbox: EventOutbox,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // Added here, after the shared JSON body parser and before any route, so that it sees the
    // parser's errors before Nest turns them into responses.
    this.adapterHost.httpAdapter.use(unparsableBodyHandler);
    consumer.apply(VendorCallMiddleware).forRoutes(PassportController, CardsController);
    consumer.apply(FormBodyMiddleware).forRoutes(PassportController);
  }

  /** Before the Kafka module disconnects the producer, so queued events still leave. */
  beforeApplicationShutdown(): Promise<void> {
    return this.outbox.close();
  }
}
