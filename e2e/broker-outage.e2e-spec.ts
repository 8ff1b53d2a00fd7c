import { commandTopic, EVENTS_TOPIC } from '@pinflow/contracts';
import { migrateDeploy, defaultMigrationsDir } from '@pinflow/db';
import { LocalKafka, Stack, startLocalKafka, startStack } from '@pinflow/platform';
import { createScratchDatabase, freePort, ScratchDatabase, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { http, PinflowClient } from './support';

/**
 * Accept means durable: intake records each request with its messages in PostgreSQL and answers
 * 202 without waiting for the broker, so it keeps accepting while Kafka is down and delivers
 * everything once Kafka is back. This suite runs its own broker, so it can crash it.
 */
describe('intake while the broker is down', () => {
  const COMMAND_TOPIC = commandTopic('pismo');
  let kafka: LocalKafka;
  let database: ScratchDatabase;
  let stack: Stack;
  let client: PinflowClient;

  beforeAll(async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-outage-'));
    kafka = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), stateDir: path.join(work, 'kafka') });
    database = await createScratchDatabase(new URL('/postgres', testEnv().databaseUrl).toString(), 'pinflow_outage');
    await migrateDeploy(database.url, defaultMigrationsDir());
    stack = await startStack({
      kafkaBrokers: kafka.brokers,
      databaseUrl: database.url,
      stateDir: path.join(work, 'state'),
      logDir: path.join(work, 'logs'),
      apps: ['intake'],
      env: { intake: { INTAKE_OUTBOX_POLL_MS: '100' } },
    });
    client = new PinflowClient(stack, await stack.secrets.token(['pin:write']), await stack.secrets.token(['pin:read']));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await kafka?.stop();
    await database?.drop();
  }, 60_000);

  it('answers 202 during the outage and delivers every accepted command once the broker is back', async () => {
    await kafka.kill();

    const cards = ['outage-card-1', 'outage-card-2', 'outage-card-3'];
    const accepted = [];
    for (const cardId of cards) {
      const started = Date.now();
      const response = await client.changePin(cardId, { encryptedPin: await client.encrypt('730418') });
      expect(response.status).toBe(202);
      // The answer does not wait on the broker's retries.
      expect(Date.now() - started).toBeLessThan(2_000);
      accepted.push(response.body.requestId);
    }
    const readiness = await http('GET', `${stack.urls.intake}/health/ready`);
    expect(readiness.status).toBe(200);

    await kafka.resume();
    const recorder = await new TopicRecorder(kafka.brokers, [COMMAND_TOPIC, EVENTS_TOPIC]).start();
    try {
      await waitFor('every accepted command on Kafka', async () => recorder.json<{ requestId: string }>(COMMAND_TOPIC).length >= cards.length, 90_000);
      const delivered = recorder.json<{ requestId: string; cardId: string }>(COMMAND_TOPIC);
      expect(delivered.map((command) => command.requestId).sort()).toEqual([...accepted].sort());
      expect(delivered.map((command) => command.cardId).sort()).toEqual(cards);
      await waitFor('the accepted events', async () => recorder.json(EVENTS_TOPIC).length >= cards.length, 30_000);
    } finally {
      await recorder.stop();
    }
  });
});
