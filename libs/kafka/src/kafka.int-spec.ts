import { createLogger } from '@pinflow/logging';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, ensureTopics, JsonProducer, RunningConsumer, startConsumer } from './index';

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

  it('delivers valid messages to the handler, and dead-letters contract-breaking ones with the reason (also telling onInvalid)', async () => {
    const topic = `it.messages.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }, { topic: DEAD_LETTER_TOPIC, partitions: 1 }], 1);
    const deadLetters = await new TopicRecorder(testEnv().kafkaBrokers, [DEAD_LETTER_TOPIC]).start();
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
    await waitFor('two dead letters', async () => deadLetters.messages.filter((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === topic).length === 2);
    const letters = deadLetters.messages.filter((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === topic);
    await deadLetters.stop();
    expect(letters.map((letter) => [letter.headers[DEAD_LETTER_HEADERS.reason], letter.headers[DEAD_LETTER_HEADERS.detail]])).toEqual([
      ['CONTRACT_VIOLATION', 'id: invalid_format'],
      ['NOT_JSON', 'value is not JSON'],
    ]);
    // Byte for byte, so it can be replayed once the cause is fixed.
    expect(letters[1].value).toBe('not json');
  });

  it('dead-letters a message whose handler keeps failing, and goes on with the next one', async () => {
    const topic = `it.poison.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }, { topic: DEAD_LETTER_TOPIC, partitions: 1 }], 1);
    const deadLetters = await new TopicRecorder(testEnv().kafkaBrokers, [DEAD_LETTER_TOPIC]).start();
    const poison = { id: randomUUID(), text: 'poison' };
    const healthy = { id: randomUUID(), text: 'fine' };
    const handled: string[] = [];
    let poisonAttempts = 0;
    consumers.push(
      await startConsumer({
        kafka,
        groupId: `it-${randomUUID()}`,
        topics: [topic],
        schema: greeting,
        logger,
        partitionsConsumedConcurrently: 1,
        maxHandlingAttempts: 3,
        handle: async (value) => {
          if (value.id === poison.id) {
            poisonAttempts += 1;
            throw new RangeError('this message can never be handled');
          }
          handled.push(value.id);
        },
      }),
    );
    await producer.send(topic, greeting, [{ key: 'k', value: poison }, { key: 'k', value: healthy }]);

    await waitFor('the message after the poison one', async () => handled.includes(healthy.id), 30_000);
    expect(poisonAttempts).toBe(3);
    await waitFor('the dead letter', async () => deadLetters.messages.some((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === topic));
    const letter = deadLetters.messages.find((candidate) => candidate.headers[DEAD_LETTER_HEADERS.topic] === topic)!;
    await deadLetters.stop();
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'HANDLER_FAILED', [DEAD_LETTER_HEADERS.detail]: 'RangeError', [DEAD_LETTER_HEADERS.attempts]: '3' });
    expect(JSON.parse(letter.value)).toEqual(poison);
  });

  it('refuses to publish a message that breaks its schema', async () => {
    await expect(producer.send('it.never', greeting, [{ key: 'k', value: { id: 'x', text: 'y' } }])).rejects.toThrow();
  });
});
