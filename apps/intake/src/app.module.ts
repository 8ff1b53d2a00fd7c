import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@pinflow/auth';
import { VENDOR_CONTRACTS } from '@pinflow/contracts';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { KafkaModule, kafkaTransportProvider, PinflowKafkaServer, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { keyRingFileOptions, PrivateKeyRingFile, PublicKeyRingFile } from '@pinflow/pin-crypto';
import { SqlModule, SqlPool, sqlIsReachable } from '@pinflow/sql';
import { HttpDoor } from './acceptance';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { D1InboundModule, D1OperatorController, D1PinManagementController } from './d1-inbound/d1-inbound.module';
import { KafkaRequesters, requesterTopicSpecs } from './kafka-requesters';
import { OpenApiController } from './openapi.controller';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRelay } from './outbox-relay';
import { PinKeysController } from './pin-keys.controller';
import { SolarisPinKeyController, SolarisPinKeyService } from './solaris-pin-key';
import { REQUEST_TOPICS, RequestDoorConsumer, RequesterSubscriptions } from './request-door.consumer';
import { RequestStatusConsumer } from './request-status.consumer';
import { RequestStatusService } from './request-status.service';
import { RequestsController } from './requests.controller';
import { RequestsService } from './requests.service';
import { RequestWriter } from './request-writer';
import { CommandKeys, SecretSealer } from './secrets';
import { Submissions } from './submissions';
import { INTAKE_LOGGER } from './tokens';
import { vendorController } from './vendor-routes';

/** Each vendor's public command keys, each file read and checked now: a broken one stops the start, naming it. */
async function openCommandKeys(config: IntakeConfig, logger: ReturnType<typeof createLogger>): Promise<CommandKeys> {
  const files = await Promise.all(
    Object.entries(config.COMMAND_KEYS_FILES).map(async ([vendor, file]) => [vendor, await PublicKeyRingFile.open(file!, keyRingFileOptions(config, logger))] as const),
  );
  return new CommandKeys(new Map(files) as ConstructorParameters<typeof CommandKeys>[0]);
}

/** intake's HTTP endpoints: each vendor's, from its contract, then intake's own. */
export const HTTP_CONTROLLERS = [...VENDOR_CONTRACTS.map(vendorController), SolarisPinKeyController, RequestsController, PinKeysController, OpenApiController, D1PinManagementController, D1OperatorController];

@Module({})
export class AppModule {
  static async forRoot(config: IntakeConfig): Promise<DynamicModule> {
    const logger = createLogger('intake', config.LOG_LEVEL);
    const requesters = await KafkaRequesters.open(config, logger);
    // intake takes requests on each registered requester's topic and answers on the reply topics they
    // registered: it makes sure they exist (and those of requesters added later: RequesterSubscriptions).
    const { requestTopics } = requesters.topics;
    return {
      module: AppModule,
      imports: [
        httpLoggerModule('intake', config.LOG_LEVEL),
        SqlModule.forRoot(config.DATABASE_URL, config.DATABASE_POOL_SIZE),
        KafkaModule.forRoot({ settings: config, clientId: 'pinflow-intake', logger, topics: [
            ...pinflowTopicSpecs(config),
            ...requesterTopicSpecs(config, requesters.topics),
          ] }),
        AuthModule.forRoot(config),
        D1InboundModule.forRoot(config),
        HealthModule.register({
          inject: [SqlPool, PinflowKafkaServer, OutboxRelay],
          // Accepting needs only the database: while the broker is away requests wait in the
          // outbox, so the broker-facing parts are reported but do not take intake out of service.
          useFactory: (pool: SqlPool, consumers: PinflowKafkaServer, relay: OutboxRelay): ReadinessProbe[] => [
            { name: 'database', isReady: () => sqlIsReachable(pool) },
            { name: 'outbox-relay', isReady: () => relay.isPublishing(), informational: true },
            { name: 'consumers', isReady: () => consumers.isHealthy(), informational: true },
          ],
        }),
      ],
      controllers: [...HTTP_CONTROLLERS, RequestStatusConsumer, RequestDoorConsumer],
      providers: [
        { provide: INTAKE_CONFIG, useValue: config },
        { provide: INTAKE_LOGGER, useValue: logger },
        { provide: PrivateKeyRingFile, useFactory: () => PrivateKeyRingFile.open(config.PIN_KEYS_FILE, keyRingFileOptions(config, logger)) },
        { provide: CommandKeys, useFactory: () => openCommandKeys(config, logger) },
        RequestsService,
        HttpDoor,
        Submissions,
        { provide: KafkaRequesters, useValue: requesters },
        RequesterSubscriptions,
        RequestWriter,
        SecretSealer,
        OutboxRelay,
        OutboxMetrics,
        SolarisPinKeyService,
        RequestStatusService,
        kafkaTransportProvider({
          logger,
          groupId: config.INTAKE_STATUS_GROUP,
          partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
          handlers: { [REQUEST_TOPICS]: { topics: requestTopics, groupId: config.INTAKE_REQUESTS_GROUP, keysConsumedConcurrently: config.INTAKE_REQUESTS_KEYS_CONCURRENTLY } },
        }),
      ],
    };
  }
}
