import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, ensureTopics, readDeadLetters } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { createScratchDatabase, repoRoot, ScratchDatabase, testEnv, waitFor } from '@pinflow/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `npm run dlq` with DATABASE_URL records its replays where audit's console sees them, and replays a letter once. */
describe('npm run dlq with DATABASE_URL', () => {
  let database: ScratchDatabase;
  let offset: string;

  /** What the command says to the operator: its kafkajs log lines (JSON, warnings about a broker's moods) left out. */
  const dlq = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'dist/tools/dlq.js'), ...args], {
      env: { ...process.env, KAFKA_BROKERS: testEnv().kafkaBrokers, DATABASE_URL: database.url },
    });
    return { stdout: stdout.split('\n').filter((line) => !line.startsWith('{')).join('\n') };
  };

  beforeAll(async () => {
    database = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_dlq_cli');
    await migrateDeploy(database.url, defaultMigrationsDir());
    const settings = { KAFKA_BROKERS: testEnv().kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 };
    const kafka = createKafka(settings, 'dlq-cli-it', createLogger('dlq-cli-it', 'silent'));
    const source = `dlq-cli-it-${randomUUID()}`;
    await ensureTopics(kafka, [{ topic: DEAD_LETTER_TOPIC, partitions: 1 }, { topic: source, partitions: 1 }], 1);
    const producer = kafka.producer();
    await producer.connect();
    const key = `card-${randomUUID()}`;
    await producer.send({ topic: DEAD_LETTER_TOPIC, messages: [{ key, value: '{}', headers: { [DEAD_LETTER_HEADERS.topic]: source, [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED' } }] });
    await producer.disconnect();
    offset = (await waitFor('the letter', async () => (await readDeadLetters(kafka)).find((letter) => letter.key === key))).offset;
  }, 120_000);

  afterAll(async () => {
    await database?.drop();
  });

  it('replays a letter, shows it replayed, skips it the second time and replays it again with --force', async () => {
    expect((await dlq('replay', '--offset', offset)).stdout).toBe('replayed 1 letter(s)\n');
    expect((await dlq('inspect', '--limit', '1000')).stdout).toMatch(new RegExp(`^#${offset} .* replayed at \\S+ by ops-cli:\\S+$`, 'm'));

    const again = (await dlq('replay', '--offset', offset)).stdout;
    expect(again).toMatch(new RegExp(`^#${offset} skipped: replayed at \\S+ by ops-cli:\\S+ \\(--force replays it again\\)\\nreplayed 0 letter\\(s\\)\\n$`));
    expect((await dlq('replay', '--offset', offset, '--force')).stdout).toBe('replayed 1 letter(s)\n');
  });
});
