import { createLogger } from '@pinflow/logging';
import { testEnv, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { createKafka, ensureTopics, JsonProducer, RunningConsumer, startConsumer } from './index';

const greeting = z.object({ id: z.uuid(), text: z.string() });

describe('Kafka plumbing on a real broker', () => {
  const logger = createLogger('kafka-int-spec', 'silent');
  let kafka: Kafka;
  let producer: JsonProducer;
  const consumers: RunningConsumer[] = [];

  beforeAll(async () => {
    const { kafkaBrokers } = testEnv();
    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 3, KAFKA_EVENT_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 3 },
      'kafka-int-spec',
      logger,
    );
    producer = new JsonProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await producer.disconnect();
  });

  it('creates topics with the configured partitions and grows them when the config grows', async () => {
    const topic = `it.topics.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 2 }], 1);
    await ensureTopics(kafka, [{ topic, partitions: 4 }], 1);
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(metadata.topics[0].partitions).toHaveLength(4);
  });

  it('delivers valid messages to the handler and hands contract-breaking ones to onInvalid', async () => {
    const topic = `it.messages.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }], 1);
    const received: unknown[] = [];
    const invalid: string[][] = [];
    consumers.push(
      await startConsumer({
        kafka,
        groupId: `it-${randomUUID()}`,
        topics: [topic],
        schema: greeting,
        logger,
        partitionsConsumedConcurrently: 1,
        handle: async (value) => {
          received.push(value);
        },
        onInvalid: async (_raw, issues) => {
          invalid.push(issues);
        },
      }),
    );
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'k', value: '{"id":"not-a-uuid","text":"secret-ish"}' }, { key: 'k', value: 'not json' }] });
    await raw.disconnect();
    const valid = { id: randomUUID(), text: 'hello' };
    await producer.send(topic, greeting, [{ key: 'k', value: valid }]);

    await waitFor('the valid message', async () => received.length === 1 && invalid.length === 2);
    expect(received).toEqual([valid]);
    expect(invalid).toEqual([['id: invalid_format'], ['value is not JSON']]);
  });

  it('refuses to publish a message that breaks its schema', async () => {
    await expect(producer.send('it.never', greeting, [{ key: 'k', value: { id: 'x', text: 'y' } }])).rejects.toThrow();
  });
});
