import type { Logger } from '@pinflow/logging';
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { z } from 'zod';
import { DeadLetterReason, DeadLetters, describeError, isInfrastructureFault } from './dead-letters';

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
  /**
   * Throwing retries the message in place (a few times, with backoff); if it keeps failing it is
   * dead-lettered, unless the fault is the infrastructure's (database or broker away): then the
   * consumer waits it out, since every message would fail alike.
   */
  handle: (value: z.output<S>, meta: MessageMeta) => Promise<void>;
  /** Besides dead-lettering: what to do about a message that is not JSON or breaks the contract (e.g. tell its requester). */
  onInvalid?: (raw: unknown, issues: string[], meta: MessageMeta) => Promise<void>;
  /** Attempts at a message whose handler keeps failing before it is dead-lettered (default 5). */
  maxHandlingAttempts?: number;
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

  const maxAttempts = options.maxHandlingAttempts ?? 5;
  // Unprocessable messages go to the dead-letter topic instead of stalling their partition.
  const deadLetters = new DeadLetters(options.kafka);
  const park = async (message: KafkaMessage, meta: MessageMeta, reason: DeadLetterReason, detail: string, attempts: number) => {
    logger.warn({ topic: meta.topic, partition: meta.partition, offset: meta.offset, reason, detail }, 'dead-lettering a message');
    await deadLetters.park(message, {
      reason,
      detail,
      attempts,
      source: { topic: meta.topic, partition: meta.partition, offset: meta.offset, group: options.groupId },
    });
  };
  const rejectInvalid = async (message: KafkaMessage, meta: MessageMeta, raw: unknown, reason: DeadLetterReason, issues: string[]) => {
    await park(message, meta, reason, issues.join('; '), 0);
    await options.onInvalid?.(raw, issues, meta);
  };

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
        return rejectInvalid(message, meta, undefined, 'NOT_JSON', ['value is not JSON']);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        // Only paths and codes: zod messages may quote the offending value, which could be a secret.
        const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
        return rejectInvalid(message, meta, raw, 'CONTRACT_VIOLATION', issues);
      }
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await options.handle(parsed.data, meta);
        } catch (error) {
          // Waiting out an outage blocks this partition, which is right: every message would fail alike.
          if (isInfrastructureFault(error)) throw error;
          if (attempt >= maxAttempts) return park(message, meta, 'HANDLER_FAILED', describeError(error), attempt);
          logger.warn({ topic, partition, offset: message.offset, attempt, error: describeError(error) }, 'handling failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
          await heartbeat();
        }
      }
    },
  });

  return {
    isHealthy: () => joined && !crashed,
    stop: async () => {
      await consumer.disconnect();
      await deadLetters.close();
    },
  };
}
