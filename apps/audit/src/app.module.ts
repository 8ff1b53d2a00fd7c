import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@pinflow/auth';
import { HealthModule, httpLoggerModule, ReadinessProbe } from '@pinflow/http';
import { createKafka, ensureTopics, kafkaTransportProvider, messageTrustProvider, PinflowKafkaServer, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { SqlModule, SqlPool, sqlIsReachable } from '@pinflow/sql';
import { Kafka } from 'kafkajs';
import { AuditEventConsumer } from './audit-event.consumer';
import { AUDIT_CONFIG, AuditConfig } from './config';
import { ConsoleController } from './console.controller';
import { EventsController } from './events.controller';
import { AuditEventStore } from './event-store';
import { OperatorController } from './operator.controller';
import { AUDIT_LOGGER } from './tokens';
import { auditDatabaseUrl, WriterRoleCheck } from './writer-role';

@Module({})
export class AppModule {
  static forRoot(config: AuditConfig): DynamicModule {
    const logger = createLogger('audit', config.LOG_LEVEL);
    return {
      module: AppModule,
      imports: [
        httpLoggerModule('audit', config.LOG_LEVEL),
        SqlModule.forRoot(auditDatabaseUrl(config), config.DATABASE_POOL_SIZE),
        AuthModule.forRoot(config),
        HealthModule.register({
          inject: [SqlPool, PinflowKafkaServer],
          useFactory: (pool: SqlPool, consumers: PinflowKafkaServer): ReadinessProbe[] => [
            { name: 'database', isReady: () => sqlIsReachable(pool) },
            { name: 'kafka', isReady: () => consumers.isHealthy() },
          ],
        }),
      ],
      controllers: [EventsController, OperatorController, ConsoleController, AuditEventConsumer],
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        { provide: AUDIT_LOGGER, useValue: logger },
        // Consumes events; produces only when an operator replays a dead letter, so it needs no KafkaModule producer.
        { provide: Kafka, useFactory: () => createKafka(config, 'pinflow-audit', logger) },
        messageTrustProvider(config, 'audit', logger),
        kafkaTransportProvider({
          logger,
          groupId: config.AUDIT_CONSUMER_GROUP,
          partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
          prepare: (kafka) => ensureTopics(kafka, pinflowTopicSpecs(config), config.KAFKA_REPLICATION_FACTOR),
        }),
        AuditEventStore,
        WriterRoleCheck,
      ],
    };
  }
}
