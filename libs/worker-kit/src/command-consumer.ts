import { COMMAND_SCHEMAS, commandTopic, Vendor } from '@pinflow/contracts';
import { InFlightLimit, REPLAYED_FROM_HEADER, RunningConsumer, startConsumer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import type { Kafka } from 'kafkajs';
import type { CommandOf, CommandRunner } from './command-runner';

export interface CommandConsumerOptions<V extends Vendor> {
  vendor: V;
  groupId: string;
  logger: Logger;
  partitionsConsumedConcurrently: number;
  /** Commands worked on at once, across partitions; each card's commands stay in order. */
  commandsInFlight: number;
  /** The vendor's command topic unless told otherwise. */
  topic?: string;
}

/**
 * Hands a vendor's commands to the runner. Commands are keyed by card, so a card whose vendor call is
 * being retried holds back its own later commands, and the other cards go on. Any partition may use
 * every place in flight: keys are rarely spread evenly over the partitions of one fetch.
 */
export function startCommandConsumer<V extends Vendor>(kafka: Kafka, runner: CommandRunner<CommandOf<V>>, options: CommandConsumerOptions<V>): Promise<RunningConsumer> {
  return startConsumer({
    kafka,
    groupId: options.groupId,
    topics: [options.topic ?? commandTopic(options.vendor)],
    schema: COMMAND_SCHEMAS[options.vendor],
    logger: options.logger,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    keysConsumedConcurrently: options.commandsInFlight,
    inFlight: new InFlightLimit(options.commandsInFlight),
    // Parsed with the vendor's own schema, which TypeScript cannot follow through the generic.
    handle: (command, meta) => runner.handle(command as CommandOf<V>, meta.heartbeat, { replayed: REPLAYED_FROM_HEADER in meta.headers }),
    onInvalid: (raw, issues, meta) => runner.rejectInvalid(raw, issues, meta),
  });
}
