import type { Kafka, Producer, ProducerBatch } from 'kafkajs';
import { IdempotentProducer } from './idempotent-producer';

/** A kafkajs producer stand-in whose sends finish when the test says so. */
class ScriptedProducer {
  readonly sent: string[] = [];
  disconnects = 0;
  private readonly pending: { settle: (error?: Error) => void }[] = [];

  constructor(readonly id: number) {}

  connect = async (): Promise<void> => undefined;
  disconnect = async (): Promise<void> => {
    this.disconnects += 1;
  };
  sendBatch = (batch: ProducerBatch): Promise<void> => {
    this.sent.push(String(batch.topicMessages?.[0].messages[0].value));
    return new Promise((resolve, reject) => this.pending.push({ settle: (error) => (error ? reject(error) : resolve()) }));
  };

  finishNext(error?: Error): void {
    this.pending.shift()!.settle(error);
  }
}

function scriptedKafka() {
  const producers: ScriptedProducer[] = [];
  const options: unknown[] = [];
  const kafka = {
    producer: (config: unknown) => {
      options.push(config);
      const producer = new ScriptedProducer(producers.length + 1);
      producers.push(producer);
      return producer as unknown as Producer;
    },
  } as unknown as Kafka;
  return { kafka, producers, options };
}

const batch = (value: string) => ({ topicMessages: [{ topic: 'pinflow.events.v1', messages: [{ key: 'card', value }] }] });
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('IdempotentProducer: no message dropped as a false duplicate after a failed send', () => {
  it('is an idempotent kafkajs producer with one request in flight and sends with acks from all in-sync replicas', async () => {
    const { kafka, producers, options } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const sending = producer.sendBatch(batch('a'));
    await settled();
    producers[0].finishNext();
    await sending;

    expect(options).toEqual([{ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }]);
    expect(producers[0].sent).toEqual(['a']);
  });

  it('sends one batch at a time: a send waits until the one before it succeeded or failed', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const first = producer.sendBatch(batch('first'));
    const second = producer.sendBatch(batch('second'));
    await settled();
    expect(producers[0].sent).toEqual(['first']);

    producers[0].finishNext();
    await first;
    await settled();
    expect(producers[0].sent).toEqual(['first', 'second']);
    producers[0].finishNext();
    await second;
  });

  it('sends after a failed send through a fresh producer (new producer id, new sequence numbers), and disconnects the failed one', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);
    const brokerGone = Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' });

    const failing = producer.sendBatch(batch('written, but its answer was lost'));
    const next = producer.sendBatch(batch('next'));
    await settled();
    producers[0].finishNext(brokerGone);

    await expect(failing).rejects.toBe(brokerGone);
    await settled();
    expect(producers).toHaveLength(2);
    expect(producers[0].disconnects).toBe(1);
    expect(producers[0].sent).toEqual(['written, but its answer was lost']);
    expect(producers[1].sent).toEqual(['next']);
    producers[1].finishNext();
    await next;
  });

  it('keeps its producer while sends succeed, and disconnects it once', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    for (const value of ['a', 'b']) {
      const sending = producer.sendBatch(batch(value));
      await settled();
      producers[0].finishNext();
      await sending;
    }
    await producer.disconnect();
    await producer.disconnect();

    expect(producers).toHaveLength(1);
    expect(producers[0].disconnects).toBe(1);
  });
});
