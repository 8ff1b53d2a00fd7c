import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { ContractPipe, KafkaHandlerOptions } from '@pinflow/kafka';
import { RequestStatusService } from './request-status.service';

/** Follows pinflow.events.v1 to keep each request's status, a partition's fetch in two statements. */
@Controller()
export class RequestStatusConsumer {
  constructor(private readonly status: RequestStatusService) {}

  @EventPattern(EVENTS_TOPIC, { batch: true } satisfies KafkaHandlerOptions)
  async record(@Payload(new ContractPipe(pinflowEvent, { each: true })) events: PinflowEvent[]): Promise<void> {
    await this.status.record(events);
  }
}
