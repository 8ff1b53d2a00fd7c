import { BeforeApplicationShutdown, DynamicModule, Module } from '@nestjs/common';
import { HealthModule, ReadinessProbe } from '@pinflow/http';
import { JsonProducer, KafkaModule } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { SandboxKitModule, sandboxLoggerModule } from '@pinflow/sandbox-kit';
import { CardRegistry } from './card-registry';
import type { SandboxConfig } from './config';
import { EventOutbox } from './event-outbox';
import { CARD_ID_IN_PATH, CID_HEADER, PISMO_DIALECT, PISMO_OPERATIONS, TOKEN_PATH } from './pismo-http';
import { PismoSimulator, SANDBOX_CONFIG } from './pismo-simulator';
import { SandboxController } from './sandbox.controller';
import { CardsController } from './vendor.controller';
import { loadZonePinKeys, ZonePinKeys } from './zone-pin-keys';

const SERVICE = 'sandbox-pismo';

@Module({})
export class AppModule implements BeforeApplicationShutdown {
  static forRoot(config: SandboxConfig): DynamicModule {
    const logger = createLogger(SERVICE, config.LOG_LEVEL);
    const registry = new CardRegistry(config.PISMO_DEFAULT_MAX_PASSWORD_TRIES);
    const zonePinKeys = loadZonePinKeys(config.PISMO_ZPK_FILE);
    return {
      module: AppModule,
      imports: [
        sandboxLoggerModule(SERVICE, config.LOG_LEVEL),
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
        SandboxKitModule.forRoot({
          service: SERVICE,
          settings: config,
          tokenPath: TOKEN_PATH,
          dialect: PISMO_DIALECT,
          cardIdInPath: CARD_ID_IN_PATH,
          correlationHeader: CID_HEADER,
          appliedOperations: PISMO_OPERATIONS,
          onReset: () => registry.clear(),
        }),
      ],
      controllers: [CardsController, SandboxController],
      providers: [
        { provide: SANDBOX_CONFIG, useValue: config },
        { provide: EventOutbox, useFactory: (producer: JsonProducer) => new EventOutbox(producer, config.PISMO_EVENTS_TOPIC, logger), inject: [JsonProducer] },
        { provide: CardRegistry, useValue: registry },
        { provide: ZonePinKeys, useValue: zonePinKeys },
        PismoSimulator,
      ],
    };
  }

  constructor(private readonly outbox: EventOutbox) {}

  /** Before the Kafka module disconnects the producer, so queued events still leave. */
  beforeApplicationShutdown(): Promise<void> {
    return this.outbox.close();
  }
}
