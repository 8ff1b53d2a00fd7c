import { counter } from '@pinflow/metrics';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { IdempotentProducer } from './idempotent-producer';

/** Where every pinflow consumer parks what it cannot process, so no message stalls its partition. */
export const DEAD_LETTER_TOPIC = 'pinflow.deadletter.v1';

/** Headers a dead letter carries: why it is here and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'pinflow-dlq-reason',
  detail: 'pinflow-dlq-detail',
  topic: 'pinflow-dlq-topic',
  partition: 'pinflow-dlq-partition',
  offset: 'pinflow-dlq-offset',
  group: 'pinflow-dlq-group',
  attempts: 'pinflow-dlq-attempts',
  at: 'pinflow-dlq-at',
} as const;

/**
 * Why a message was parked. NOT_JSON, CONTRACT_VIOLATION, HANDLER_FAILED and UNTRUSTED (a command or
 * event not signed for its topic by its rightful publisher) are the consumer's own verdicts; the others
 * are a handler's (a worker's commands): retries spent on a vendor that never applied the command, a
 * secret that could not be decrypted, a call whose outcome nobody knows; or intake's, for a request
 * nobody validly signed, or one signed by another requester than the one whose request topic it came on.
 */
export const DEAD_LETTER_REASONS = ['NOT_JSON', 'CONTRACT_VIOLATION', 'HANDLER_FAILED', 'RETRIES_EXHAUSTED', 'UNDECRYPTABLE', 'OUTCOME_UNKNOWN', 'SIGNATURE_INVALID', 'REQUESTER_MISMATCH', 'UNTRUSTED'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

const deadLettersParked = counter({
  name: 'pinflow_dead_letters_total',
  help: 'Messages parked on the dead-letter topic, by reason and the topic they came from',
  labelNames: ['reason', 'topic'],
});

/** Set on a message `npm run dlq -- replay` put back on its topic, so its handler can tell a replay from a redelivery. */
export const REPLAYED_FROM_HEADER = 'pinflow-replayed-from';

export interface DeadLetter {
  reason: DeadLetterReason;
  /** What went wrong, without message content: field paths and zod codes, or an error's name and code. */
  detail: string;
  source: { topic: string; partition: number; offset: string; group: string };
  attempts: number;
}

/**
 * Publishes unprocessable messages, byte for byte, to the dead-letter topic with the reason in
 * headers. The original value is kept so that an operator can replay it once the cause is fixed; it
 * is what the source topic already held (secrets only as JWE).
 */
export class DeadLetters {
  private readonly producer: IdempotentProducer;

  constructor(kafka: Kafka) {
    this.producer = new IdempotentProducer(kafka);
  }

  /** Starts the dead-letter counts of these source topics at 0, so that an alert sees the first one as an increase. */
  countFrom(topics: string[]): void {
    for (const topic of topics) for (const reason of DEAD_LETTER_REASONS) deadLettersParked.inc({ reason, topic }, 0);
  }

  async park(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>, letter: DeadLetter): Promise<void> {
    await this.producer.sendBatch([
      {
        topic: DEAD_LETTER_TOPIC,
        messages: [
          {
            key: message.key,
            value: message.value,
            headers: {
              ...message.headers,
              [DEAD_LETTER_HEADERS.reason]: letter.reason,
              [DEAD_LETTER_HEADERS.detail]: letter.detail,
              [DEAD_LETTER_HEADERS.topic]: letter.source.topic,
              [DEAD_LETTER_HEADERS.partition]: String(letter.source.partition),
              [DEAD_LETTER_HEADERS.offset]: letter.source.offset,
              [DEAD_LETTER_HEADERS.group]: letter.source.group,
              [DEAD_LETTER_HEADERS.attempts]: String(letter.attempts),
              [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
            },
          },
        ],
      },
    ]);
    deadLettersParked.inc({ reason: letter.reason, topic: letter.source.topic });
  }

  /** Disconnects the producer, if a dead letter was ever parked. */
  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

/**
 * Faults that affect every message alike (a database or broker away) are worth waiting out: parking
 * messages then would empty the topic into the dead-letter queue. Anything else that keeps failing
 * is a property of the message.
 */
export function isInfrastructureFault(error: unknown): boolean {
  const candidate = error as { code?: unknown; name?: unknown; retriable?: unknown; cause?: unknown } | undefined;
  if (!candidate || typeof candidate !== 'object') return false;
  const code = typeof candidate.code === 'string' ? candidate.code : '';
  const name = typeof candidate.name === 'string' ? candidate.name : '';
  if (/^P10\d\d$/.test(code)) return true; // Prisma: cannot reach or authenticate to the database
  // Prisma: no pooled connection, or no transaction start, in time: the database is overloaded, not the message wrong.
  if (code === 'P2024' || code === 'P2028') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '53300', '08006', '08001'].includes(code)) return true;
  if (name.startsWith('KafkaJS')) return true;
  if (name === 'PrismaClientInitializationError' || name === 'DriverAdapterError') return true;
  return candidate.cause !== undefined && candidate.cause !== error && isInfrastructureFault(candidate.cause);
}

/** What a dead letter may say about an error: its kind, never its message (messages can quote data). */
export function describeError(error: unknown): string {
  const candidate = error as { name?: unknown; code?: unknown } | undefined;
  const name = typeof candidate?.name === 'string' ? candidate.name : typeof error;
  const code = typeof candidate?.code === 'string' || typeof candidate?.code === 'number' ? String(candidate.code) : undefined;
  return code ? `${name} ${code}` : name;
}
