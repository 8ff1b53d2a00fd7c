import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { ContractPipe, KafkaHandlerOptions } from '@pinflow/kafka';
import { D1ChangeCounters } from './d1-inbound/change-counters';
import { RequestStatusService } from './request-status.service';

/**
 * Follows pinflow.events.v1 to keep each request's status, a partition's fetch in two statements, and
 * the Seccos change counters of the cards Thales D1 pushed PINs for, which move on only with a change
 * the processor completed. Both are idempotent, so a redelivered batch changes nothing more.
 */
@Controller()
export class RequestStatusConsumer {
  constructor(
    private readonly status: RequestStatusService,
    private readonly d1ChangeCounters: D1ChangeCounters,
  ) {}

  @EventPattern(EVENTS_TOPIC, { batch: true } satisfies KafkaHandlerOptions)
  async record(@Payload(new ContractPipe(pinflowEvent, { each: true })) events: PinflowEvent[]): Promise<void> {
    // Counters first: once a request's status shows its outcome, its card's counter has followed, so
    // whoever saw the outcome reads the counter the next push must carry.
    await this.d1ChangeCounters.settle(events);
    await this.status.record(events);
  }
}
