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
    await this.status.record(events);
    await this.d1ChangeCounters.settle(events);
  }
}
