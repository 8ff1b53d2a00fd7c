import type { Logger } from '@pinflow/logging';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type { z } from 'zod';

export interface MessageMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** Tells the group coordinator this consumer is alive; call it during long handling (vendor retries). */
  heartbeat: () => Promise<void>;
}

export interface ConsumerOptions<S extends z.ZodType> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  schema: S;
  logger: Logger;
  partitionsConsumedConcurrently: number;
  /** Throwing makes Kafka redeliver the message (the offset is not committed): use it for transient faults only. */
  handle: (value: z.output<S>, meta: MessageMeta) => Promise<void>;
  /** A message that is not JSON or breaks the contract. Default: log its position (never its content) and move on. */
  onInvalid?: (raw: unknown, issues: string[], meta: MessageMeta) => Promise<void>;
  fromBeginning?: boolean;
}

export interface RunningConsumer {
  /** False after the consumer crashed for good or before it joined its group. */
  isHealthy(): boolean;
  stop(): Promise<void>;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) decoded[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return decoded;
}

/**
 * Runs a validating consumer. Offsets are committed only after `handle` resolves, so delivery is
 * at-least-once; handlers must be idempotent.
 */
export async function startConsumer<S extends z.ZodType>(options: ConsumerOptions<S>): Promise<RunningConsumer> {
  const { logger, schema } = options;
  const consumer: Consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  let joined = false;
  let crashed = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    crashed = false;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    crashed = !event.payload.restart;
    logger.error({ err: event.payload.error, willRestart: event.payload.restart }, 'consumer crashed');
  });

  const onInvalid =
    options.onInvalid ??
    (async (_raw: unknown, issues: string[], meta: MessageMeta) => {
      logger.warn({ topic: meta.topic, partition: meta.partition, offset: meta.offset, issues }, 'skipping a message that breaks its contract');
    });

  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    eachMessage: async ({ topic, partition, message, heartbeat }) => {
      const meta: MessageMeta = {
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        headers: decodeHeaders(message.headers),
        heartbeat,
      };
      let raw: unknown;
      try {
        raw = JSON.parse(message.value?.toString() ?? '');
      } catch {
        await onInvalid(undefined, ['value is not JSON'], meta);
        return;
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        // Only paths and codes: zod messages may quote the offending value, which could be a secret.
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
        await onInvalid(raw, issues, meta);
        return;
      }
      await options.handle(parsed.data, meta);
    },
  });

  return {
    isHealthy: () => joined && !crashed,
    stop: () => consumer.disconnect(),
  };
}
