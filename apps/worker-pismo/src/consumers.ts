import { Inject, Injectable } from '@nestjs/common';
import { commandTopic, pismoCommand } from '@pinflow/contracts';
import { ConsumerService, RunningConsumer, startConsumer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { Kafka } from 'kafkajs';
import { CommandProcessor } from './command-processor';
import { WORKER_CONFIG, WorkerConfig } from './config';
import { pismoEvent } from './pismo-events';
import { WORKER_LOGGER } from './tokens';
import { VendorEventProcessor } from './vendor-event-processor';

/** pinflow's commands for Pismo. */
@Injectable()
export class CommandConsumer extends ConsumerService {
  constructor(
    private readonly kafka: Kafka,
    private readonly commands: CommandProcessor,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  protected startConsumer(): Promise<RunningConsumer> {
    return startConsumer({
      kafka: this.kafka,
      groupId: this.config.WORKER_COMMAND_GROUP,
      topics: [commandTopic('pismo')],
      schema: pismoCommand,
      logger: this.logger.child({ consumer: 'commands' }),
      partitionsConsumedConcurrently: this.config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
      handle: (command, meta) => this.commands.handle(command, meta.heartbeat),
      onInvalid: (raw, issues, meta) => this.commands.rejectInvalid(raw, issues, meta),
    });
  }
}

/** Pismo's own events about the cards pinflow acts on. */
@Injectable()
export class PismoEventConsumer extends ConsumerService {
  constructor(
    private readonly kafka: Kafka,
    private readonly vendorEvents: VendorEventProcessor,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  protected startConsumer(): Promise<RunningConsumer> {
    return startConsumer({
      kafka: this.kafka,
      groupId: this.config.WORKER_VENDOR_EVENT_GROUP,
      topics: [this.config.PISMO_EVENTS_TOPIC],
      schema: pismoEvent,
      logger: this.logger.child({ consumer: 'pismo-events' }),
      partitionsConsumedConcurrently: this.config.KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY,
      handle: (event) => this.vendorEvents.handle(event),
    });
  }
}
