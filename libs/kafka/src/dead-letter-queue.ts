import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { ReplayRecord } from './dead-letter-replays';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, REPLAYED_FROM_HEADER } from './dead-letters';

/** A message parked on the dead-letter topic, as read back: where it sits there, and what it carries. */
export interface StoredDeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** What an operator may see of a letter: why it was parked and where from, never its value. */
export interface DeadLetterSummary {
  partition: number;
  offset: string;
  reason: string;
  detail: string;
  at: string;
  attempts: number;
  source: { topic: string; partition: number; offset: string; group: string };
  key: string | null;
  /** Every time an operator replayed it, and who (see DeadLetterReplays), oldest first; empty while it was never replayed. */
  replays: ReplayRecord[];
}

export function summarize(letter: StoredDeadLetter, replays: readonly ReplayRecord[] = []): DeadLetterSummary {
  const h = letter.headers;
  return {
    partition: letter.partition,
    offset: letter.offset,
    reason: h[DEAD_LETTER_HEADERS.reason] ?? '',
    detail: h[DEAD_LETTER_HEADERS.detail] ?? '',
    at: h[DEAD_LETTER_HEADERS.at] ?? '',
    attempts: Number(h[DEAD_LETTER_HEADERS.attempts] ?? 0),
    source: {
      topic: h[DEAD_LETTER_HEADERS.topic] ?? '',
      partition: Number(h[DEAD_LETTER_HEADERS.partition] ?? -1),
      offset: h[DEAD_LETTER_HEADERS.offset] ?? '',
      group: h[DEAD_LETTER_HEADERS.group] ?? '',
    },
    key: letter.key,
    replays: [...replays],
  };
}

/** Every letter on the dead-letter topic, read with a throwaway group so reading never moves anyone's offsets. */
export async function readDeadLetters(kafka: Kafka): Promise<StoredDeadLetter[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((end) => Number(end.high) > Number(end.low)).map((end) => [end.partition, Number(end.high)]));
  const letters: StoredDeadLetter[] = [];
  if (remaining.size === 0) return letters;
  const consumer = kafka.consumer({ groupId: `pinflow-dlq-reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [DEAD_LETTER_TOPIC], fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = String(value);
          letters.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value, headers });
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/**
 * Republishes letters to the topic they came from, byte for byte, without the dead-letter headers and
 * marked as replayed (consumers deduplicate on command and event ids, so a replay is safe to repeat).
 */
export async function replayDeadLetters(kafka: Kafka, letters: readonly StoredDeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const letter of letters) {
      const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith('pinflow-dlq-')));
      await producer.send({
        topic: letter.headers[DEAD_LETTER_HEADERS.topic],
        acks: -1,
        messages: [{ key: letter.key, value: letter.value, headers: { ...headers, [REPLAYED_FROM_HEADER]: `${DEAD_LETTER_TOPIC}@${letter.offset}` } }],
      });
    }
  } finally {
    await producer.disconnect();
  }
}
