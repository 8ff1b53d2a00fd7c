import { Inject, Injectable } from '@nestjs/common';
import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { ConsumedMessage, ConsumerService, ensureTopics, pinflowTopicSpecs, RunningConsumer, startConsumer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { Kafka } from 'kafkajs';
import { AUDIT_CONFIG, AuditConfig } from './config';
import { AuditEventStore } from './event-store';
import { AUDIT_LOGGER } from './tokens';

/**
 * Feeds pinflow.events.v1 into the audit trail, a fetched batch per statement. Kafka hands over each
 * partition (one card's events) in order and the offset is committed only after the rows are
 * written, so a crash means redelivery, which the store absorbs; a database fault is thrown for the
 * same reason.
 */
@Injectable()
export class AuditEventConsumer extends ConsumerService {
  constructor(
    private readonly kafka: Kafka,
    private readonly store: AuditEventStore,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
    @Inject(AUDIT_LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  protected async startConsumer(): Promise<RunningConsumer> {
    await ensureTopics(this.kafka, pinflowTopicSpecs(this.config), this.config.KAFKA_REPLICATION_FACTOR);
    return startConsumer({
      kafka: this.kafka,
      groupId: this.config.AUDIT_CONSUMER_GROUP,
      topics: [EVENTS_TOPIC],
      schema: pinflowEvent,
      logger: this.logger,
      partitionsConsumedConcurrently: this.config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
      handleBatch: (messages) => this.record(messages as ConsumedMessage<PinflowEvent>[]),
    });
  }

  private async record(messages: ConsumedMessage<PinflowEvent>[]): Promise<void> {
    const stored = await this.store.record(messages.map((message) => message.value));
    if (!this.logger.isLevelEnabled('debug')) return;
    // Ids and types only: the event's data belongs in the audit trail, not in the logs.
    for (const { value: event, meta } of messages) {
      this.logger.debug(
        { eventId: event.id, type: event.type, partition: meta.partition, offset: meta.offset },
        stored.has(event.id) ? 'event recorded' : 'event already recorded',
      );
    }
  }
}
