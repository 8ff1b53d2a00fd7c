import type { Kafka, Producer, ProducerBatch } from 'kafkajs';

interface Session {
  producer: Producer;
  connected: Promise<void>;
}

/**
 * kafkajs' idempotent producer (acks=all, one request in flight), used so that it cannot drop a
 * message silently. When a produce request fails, kafkajs rolls the partition's sequence number back,
 * even when the broker had written the batch before the connection broke (a broker killed mid-request).
 * The next batch of the same size then carries the written batch's sequence, and the broker
 * acknowledges it as a duplicate without writing it. So:
 * - sends go one at a time: no send takes a sequence number while another is failing and retrying;
 * - after a failed send the producer is replaced by a fresh one (a new producer id, new sequences).
 * The worst a retry can then do is write a message twice, which every pinflow consumer dedupes (event
 * ids, command ids).
 */
export class IdempotentProducer {
  private session?: Session;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly kafka: Kafka) {}

  connect(): Promise<void> {
    return this.serially(() => this.current().connected);
  }

  /** One produce request (kafkajs retries it itself); throws when it could not be written. */
  sendBatch(batch: Omit<ProducerBatch, 'acks'>): Promise<void> {
    return this.serially(async () => {
      const { producer, connected } = this.current();
      await connected;
      await producer.sendBatch({ ...batch, acks: -1 });
    });
  }

  disconnect(): Promise<void> {
    return this.serially(async () => {
      const session = this.session;
      this.session = undefined;
      await session?.producer.disconnect();
    });
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const turn = this.queue.then(async () => {
      try {
        await work();
      } catch (error) {
        await this.discard();
        throw error;
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private current(): Session {
    if (!this.session) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.session = { producer, connected: producer.connect() };
    }
    return this.session;
  }

  private async discard(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.producer.disconnect().catch(() => undefined);
  }
}
