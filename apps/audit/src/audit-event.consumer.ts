import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { ContractPipe, KafkaHandlerOptions, KafkaMessageContext } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { traceIdOf } from '@pinflow/tracing';
import { AuditEventStore } from './event-store';
import { AUDIT_LOGGER } from './tokens';

/**
 * Feeds pinflow.events.v1 into the audit trail, the fetched batches in hand at once in one statement
 * (see AuditEventStore). Kafka hands over each partition (one card's events) in order and the offset
 * is committed only after the rows are written, so a crash means redelivery, which the store
 * absorbs; a database fault is thrown for the same reason.
 */
@Controller()
export class AuditEventConsumer {
  constructor(
    private readonly store: AuditEventStore,
    @Inject(AUDIT_LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(EVENTS_TOPIC, { batch: true } satisfies KafkaHandlerOptions)
  async record(@Payload(new ContractPipe(pinflowEvent, { each: true })) events: PinflowEvent[], @Ctx() context: KafkaMessageContext): Promise<void> {
    const messages = context.getMessages();
    const stored = await this.store.record(
      events,
      messages.map((message) => ({ traceId: traceIdOf(message.headers), signer: message.signer })),
    );
    if (!this.logger.isLevelEnabled('debug')) return;
    // Ids and types only: the event's data belongs in the audit trail, not in the logs.
    events.forEach((event, index) => {
      this.logger.debug(
        { eventId: event.id, type: event.type, partition: messages[index].partition, offset: messages[index].offset },
        stored.has(event.id) ? 'event recorded' : 'event already recorded',
      );
    });
  }
}
