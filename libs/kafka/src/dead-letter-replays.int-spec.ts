import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { createLogger } from '@pinflow/logging';
import { createSqlPool, type SqlPool } from '@pinflow/sql';
import { createScratchDatabase, ScratchDatabase, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import type { Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, DeadLetterReplays, ensureTopics, readDeadLetters, replayKeyOf, type StoredDeadLetter } from './index';

/**
 * A replayed letter stays on the dead-letter topic: dead_letter_replays is what keeps an operator
 * (or two at once) from replaying it twice by accident, on a real broker and database.
 */
describe('replaying a dead letter once', () => {
  const source = `dlq-replays-it-${randomUUID()}`;
  let database: ScratchDatabase;
  let pool: SqlPool;
  let kafka: Kafka;
  let producer: Producer;
  let recorder: TopicRecorder;
  let replays: DeadLetterReplays;

  /** Parks a message from the source topic as the consumer would, and reads it back from the dead-letter topic. */
  async function park(): Promise<StoredDeadLetter> {
    const key = `card-${randomUUID()}`;
    await producer.send({
      topic: DEAD_LETTER_TOPIC,
      messages: [
        {
          key,
          value: JSON.stringify({ commandId: randomUUID() }),
          headers: { [DEAD_LETTER_HEADERS.topic]: source, [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED', [DEAD_LETTER_HEADERS.partition]: '0', [DEAD_LETTER_HEADERS.offset]: '7' },
        },
      ],
    });
    return waitFor('the letter on the dead-letter topic', async () => (await readDeadLetters(kafka)).find((letter) => letter.key === key));
  }

  const republished = (letter: StoredDeadLetter) => recorder.messages.filter((message) => message.key === letter.key);

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    database = await createScratchDatabase(databaseUrl, 'pinflow_dlq_replays');
    await migrateDeploy(database.url, defaultMigrationsDir());
    pool = createSqlPool(database.url, 4);
    replays = new DeadLetterReplays(pool);
    kafka = createKafka({ KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 }, 'dlq-replays-it', createLogger('dlq-replays-it', 'silent'));
    await ensureTopics(kafka, [{ topic: DEAD_LETTER_TOPIC, partitions: 1 }, { topic: source, partitions: 1 }], 1);
    producer = kafka.producer();
    await producer.connect();
    recorder = await new TopicRecorder(kafkaBrokers, [source]).start();
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await producer?.disconnect();
    await pool?.end();
    await database?.drop();
  });

  it('republishes a letter and records who replayed it and when; a second replay is refused with that record, a forced one goes', async () => {
    const letter = await park();

    const first = await replays.replayOnce(kafka, letter, 'alice');
    const second = await replays.replayOnce(kafka, letter, 'bob');
    expect(first).toEqual({ replayed: true, record: { replayedBy: 'alice', replayedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    expect(second).toEqual({ replayed: false, record: first.record });
    expect((await replays.historiesOf([letter])).get(replayKeyOf(letter))).toEqual([first.record]);
    await waitFor('the replayed message on its source topic', async () => republished(letter).length === 1);

    const forced = await replays.replayOnce(kafka, letter, 'bob', true);
    expect(forced).toEqual({ replayed: true, record: { replayedBy: 'bob', replayedAt: expect.any(String) } });
    expect(forced.record.replayedAt >= first.record.replayedAt).toBe(true);
    await waitFor('the forced replay on its source topic', async () => republished(letter).length === 2);
  });

  it('keeps every replay of a letter, oldest first: a forced one adds to the history, and a refused one names the latest', async () => {
    const letter = await park();

    const first = await replays.replayOnce(kafka, letter, 'alice');
    const forced = await replays.replayOnce(kafka, letter, 'bob', true);
    const forcedAgain = await replays.replayOnce(kafka, letter, 'carol', true);
    const refused = await replays.replayOnce(kafka, letter, 'dave');

    const history = [first.record, forced.record, forcedAgain.record];
    expect(history.map((record) => record.replayedBy)).toEqual(['alice', 'bob', 'carol']);
    expect((await replays.historiesOf([letter])).get(replayKeyOf(letter))).toEqual(history);
    expect(refused).toEqual({ replayed: false, record: forcedAgain.record });
    expect((await replays.history()).filter((entry) => entry.offset === letter.offset && entry.partition === letter.partition)).toEqual(
      history.map((record) => ({ partition: letter.partition, offset: letter.offset, ...record })),
    );
    await waitFor('three replays on the source topic', async () => republished(letter).length === 3);
  });

  it('gives every one of two forced replays racing each other its own place in the history', async () => {
    const letter = await park();
    await replays.replayOnce(kafka, letter, 'alice');

    await Promise.all([replays.replayOnce(kafka, letter, 'bob', true), replays.replayOnce(kafka, letter, 'carol', true)]);

    const history = (await replays.historiesOf([letter])).get(replayKeyOf(letter)) ?? [];
    expect(history.map((record) => record.replayedBy).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(history[0].replayedBy).toBe('alice');
  });

  it('lets only one of two operators replaying the same letter at once republish it', async () => {
    const letter = await park();

    const outcomes = await Promise.all([replays.replayOnce(kafka, letter, 'alice'), replays.replayOnce(kafka, letter, 'bob')]);

    expect(outcomes.filter((outcome) => outcome.replayed)).toHaveLength(1);
    await waitFor('the replayed message on its source topic', async () => republished(letter).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(republished(letter)).toHaveLength(1);
  });

  it('knows nothing of a letter nobody replayed', async () => {
    const letter = await park();

    expect(await replays.historiesOf([letter])).toEqual(new Map());
  });
});
