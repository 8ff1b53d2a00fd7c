import { Kafka, Partitioners, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { IdempotentProducer, UnacknowledgedPartitionError } from './idempotent-producer';

const PARTITIONS = 6;

/** What one produce request carried: its topic, and each message's partition and value. */
interface Request {
  topic: string;
  messages: { partition?: number; value: string }[];
}

/** A kafkajs producer stand-in whose requests finish when the test says so, acknowledging every partition they carried unless told otherwise. */
class ScriptedProducer {
  readonly requests: Request[][] = [];
  disconnects = 0;
  private readonly pending: { settle: (error?: Error, skipPartition?: number) => void }[] = [];

  connect = async (): Promise<void> => undefined;
  disconnect = async (): Promise<void> => {
    this.disconnects += 1;
  };
  sendBatch = ({ topicMessages = [] }: ProducerBatch): Promise<RecordMetadata[]> => {
    const request = topicMessages.map(({ topic, messages }) => ({ topic, messages: messages.map(({ partition, value }) => ({ partition, value: String(value) })) }));
    this.requests.push(request);
    const acknowledgements = (skipPartition?: number) =>
      [...new Set(request.flatMap(({ topic, messages }) => messages.map((message) => `${topic}|${message.partition}`)))]
        .map((entry) => entry.split('|'))
        .filter(([, partition]) => Number(partition) !== skipPartition)
        .map(([topicName, partition]) => ({ topicName, partition: Number(partition), errorCode: 0 }));
    return new Promise((resolve, reject) => this.pending.push({ settle: (error, skipPartition) => (error ? reject(error) : resolve(acknowledgements(skipPartition))) }));
  };

  get values(): string[] {
    return this.requests.flat().flatMap((topic) => topic.messages.map((message) => message.value));
  }

  get waiting(): number {
    return this.pending.length;
  }

  finishNext(error?: Error): void {
    this.pending.shift()!.settle(error);
  }

  /** Answers like kafkajs after a leader change its retry skipped: success, without the partition's acknowledgement. */
  finishNextWithout(partition: number): void {
    this.pending.shift()!.settle(undefined, partition);
  }
}

function scriptedKafka() {
  const producers: ScriptedProducer[] = [];
  const options: unknown[] = [];
  const kafka = {
    producer: (config: unknown) => {
      options.push(config);
      const producer = new ScriptedProducer();
      producers.push(producer);
      return producer as unknown as Producer;
    },
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name) => ({ name, partitions: Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: partitionId % 3 })) })),
      }),
    }),
  } as unknown as Kafka;
  return { kafka, producers, options };
}

const TOPIC = 'pinflow.events.v1';
const batch = (...values: string[]) => [{ topic: TOPIC, messages: values.map((value) => ({ key: `card-${value}`, value })) }];
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** Finishes the producer's requests as they come, until `sending` settles. */
async function answerAll(producer: ScriptedProducer, sending: Promise<void>): Promise<void> {
  let done = false;
  const finished = sending.finally(() => (done = true));
  while (!done) {
    await settled();
    if (!done && producer.waiting > 0) producer.finishNext();
  }
  await finished;
}

describe('IdempotentProducer: no message dropped as a false duplicate or skipped on a leader change', () => {
  it('is an idempotent kafkajs producer with one request in flight', async () => {
    const { kafka, producers, options } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const sending = producer.sendBatch(batch('a'));
    await settled();
    await answerAll(producers[0], sending);

    expect(options).toEqual([{ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }]);
    expect(producers[0].values).toEqual(['a']);
  });

  it('with a linger, lets a send made while idle wait for the sends that follow, all in its request', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka, undefined, 20);

    const first = producer.sendBatch(batch('a'));
    await settled();
    const second = producer.sendBatch(batch('b'));
    while (!producers[0]?.waiting) await new Promise((resolve) => setTimeout(resolve, 5));

    expect(producers[0].requests).toHaveLength(1);
    expect(producers[0].values.sort()).toEqual(['a', 'b']);
    producers[0].finishNext();
    await Promise.all([first, second]);
  });

  it("puts each message in the partition kafkajs' default partitioner gives its key, in order within the partition, all in one request", async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);
    const values = Array.from({ length: 20 }, (_, index) => String(index));
    const sending = producer.sendBatch(batch(...values));
    await settled();

    await answerAll(producers[0], sending);

    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
    const expected = new Map<number, string[]>();
    for (const value of values) {
      const partition = partitioner({ topic: TOPIC, partitionMetadata, message: { key: `card-${value}`, value } });
      expected.set(partition, [...(expected.get(partition) ?? []), value]);
    }
    expect(producers[0].requests).toHaveLength(1);
    const sent = new Map<number, string[]>();
    for (const { partition, value } of producers[0].requests[0][0].messages) sent.set(partition!, [...(sent.get(partition!) ?? []), value]);
    expect(sent).toEqual(expected);
  });

  it('fails a send whose acknowledgements miss a partition it wrote to (kafkajs#1798: a retry skipped a broker that had answered)', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);
    const values = Array.from({ length: 20 }, (_, index) => String(index));

    const sending = producer.sendBatch(batch(...values));
    await settled();
    await settled();
    const skipped = producers[0].requests[0][0].messages[0].partition!;
    producers[0].finishNextWithout(skipped);

    await expect(sending).rejects.toBeInstanceOf(UnacknowledgedPartitionError);
    expect(producers[0].disconnects).toBe(1);
  });

  it('carries the sends made while one is in flight together in the next request, and settles each caller', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const first = producer.sendBatch(batch('first'));
    await settled();
    await settled();
    const queued = [producer.sendBatch(batch('second')), producer.sendBatch(batch('third', 'fourth'))];
    producers[0].finishNext();
    await first;
    await answerAll(producers[0], Promise.all(queued).then(() => undefined));

    expect(producers[0].requests.map((request) => request.flatMap((topic) => topic.messages.map((message) => message.value)))).toEqual([
      ['first'],
      ['second', 'third', 'fourth'],
    ]);
  });

  it('sends one batch at a time: a send waits until the one before it succeeded or failed', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const first = producer.sendBatch(batch('first'));
    const second = producer.sendBatch(batch('second'));
    await settled();
    await settled();
    expect(producers[0].values).toEqual(['first']);

    producers[0].finishNext();
    await first;
    await answerAll(producers[0], second);
    expect(producers[0].values).toEqual(['first', 'second']);
  });

  it('sends after a failed send through a fresh producer (new producer id, new sequence numbers), and disconnects the failed one', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);
    const brokerGone = Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' });

    const failing = producer.sendBatch(batch('written, but its answer was lost'));
    const next = producer.sendBatch(batch('next'));
    await settled();
    await settled();
    producers[0].finishNext(brokerGone);

    await expect(failing).rejects.toBe(brokerGone);
    await settled();
    await answerAll(producers[1], next);
    expect(producers).toHaveLength(2);
    expect(producers[0].disconnects).toBe(1);
    expect(producers[0].values).toEqual(['written, but its answer was lost']);
    expect(producers[1].values).toEqual(['next']);
  });

  it('keeps its producer while sends succeed, and disconnects it once', async () => {
    const { kafka, producers } = scriptedKafka();
    const producer = new IdempotentProducer(kafka);

    const first = producer.sendBatch(batch('a'));
    await settled();
    await answerAll(producers[0], first);
    await answerAll(producers[0], producer.sendBatch(batch('b')));
    await producer.disconnect();
    await producer.disconnect();

    expect(producers).toHaveLength(1);
    expect(producers[0].disconnects).toBe(1);
  });
});
