import { Inject, Injectable } from '@nestjs/common';
import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { ConsumerService, RunningConsumer, startConsumer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { Kafka } from 'kafkajs';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { RequestStatusService } from './request-status.service';
import { INTAKE_LOGGER } from './tokens';

@Injectable()
export class RequestStatusConsumer extends ConsumerService {
  constructor(
    private readonly kafka: Kafka,
    private readonly status: RequestStatusService,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    @Inject(INTAKE_LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  protected startConsumer(): Promise<RunningConsumer> {
    return startConsumer({
      kafka: this.kafka,
      groupId: this.config.INTAKE_STATUS_GROUP,
      topics: [EVENTS_TOPIC],
      schema: pinflowEvent,
      logger: this.logger,
      partitionsConsumedConcurrently: this.config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
      // A partition's fetch in two statements, not two round trips per event.
      handleBatch: (messages) => this.status.record(messages.map((message) => message.value as PinflowEvent)),
    });
  }
}
