import { randomUUID } from 'node:crypto';
import { Consumer, Kafka, KafkaConfig, logLevel } from 'kafkajs';
import { waitFor } from './processes';

export interface RecordedMessage {
  topic: string;
  partition: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads topics from the beginning into memory, in its own consumer group, so tests can wait for
 * messages and search everything that crossed the broker.
 */
export class TopicRecorder {
  readonly messages: RecordedMessage[] = [];
  private consumer?: Consumer;

  /**
   * `security`: kafkajs' `ssl` and `sasl`, for a broker that wants them; `groupPrefix`: what its
   * consumer group's name starts with, for a principal allowed only groups of its own name.
   */
  constructor(
    private readonly brokers: string,
    private readonly topics: string[],
    private readonly security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {},
    private readonly groupPrefix = 'test-recorder',
  ) {}

  async start(): Promise<this> {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
    const kafka = new Kafka({ clientId: 'test-recorder', brokers: this.brokers.split(','), logLevel: logLevel.NOTHING, ...this.security });
    this.consumer = kafka.consumer({ groupId: `${this.groupPrefix}-${randomUUID()}`, allowAutoTopicCreation: false });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
        this.messages.push({ topic, partition, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers });
      },
    });
    return this;
  }

  json<T = Record<string, unknown>>(topic: string): T[] {
    return this.messages.filter((message) => message.topic === topic).map((message) => JSON.parse(message.value) as T);
  }

  async waitForJson<T = Record<string, unknown>>(topic: string, predicate: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    return waitFor(`a message on ${topic}`, async () => this.json<T>(topic).find(predicate), timeoutMs, 100);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
