import { PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC } from '@pinflow/contracts';
import { DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { KAFKA_ADMIN_PRINCIPAL, KafkaPrincipal, PinChangeScenarios, SecuredLocalKafka, Stack, startSecuredLocalKafka, startStack, VENDOR_NAMES } from '@pinflow/platform';
import { createScratchDatabase, freePort, ScratchDatabase, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { Kafka, KafkaConfig, Message } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { occurrences, PinflowClient, readLogs } from './support';

/** What kafkajs throws: a protocol error, or an error around one (`cause`) once retries are given up. */
interface KafkaError {
  name: string;
  message: string;
  type?: string;
  cause?: KafkaError;
}

/**
 * Kafka as a trust boundary: the broker speaks SASL_SSL only, every service signs in as its own
 * principal, and the ACLs let each do its part and nothing else, so that a worker's credentials
 * can neither read another vendor's commands nor forge one. This suite runs its own broker. The
 * Kafka door's requesters on such a broker: e2e/kafka-door.e2e-spec.ts.
 */
describe('Kafka over SASL_SSL, one principal per service', () => {
  const PIN = '730418';
  let kafka: SecuredLocalKafka;
  let database: ScratchDatabase;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let writeToken: string;

  /** Connects as `principal` (none: TLS but no SASL) and gives what `attempt` threw, or undefined. */
  async function refusal(
    principal: KafkaPrincipal | undefined,
    attempt: (kafka: Kafka) => Promise<unknown>,
    config: Partial<KafkaConfig> = {},
  ): Promise<KafkaError | undefined> {
    try {
      await attempt(new Kafka({ ...kafka.clientConfig(principal), retry: { retries: 0 }, ...config }));
      return undefined;
    } catch (error) {
      return error as KafkaError;
    }
  }

  async function produce(kafkaClient: Kafka, topic: string, message: Message = { key: 'forged-card', value: '{"forged":true}' }): Promise<void> {
    const producer = kafkaClient.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, messages: [message] });
    } finally {
      await producer.disconnect();
    }
  }

  /** Joins a group as a worker would and waits for its first fetch: the consumer crashes if the broker refuses it. */
  async function consume(kafkaClient: Kafka, topic: string, groupId: string): Promise<void> {
    const consumer = kafkaClient.consumer({ groupId, allowAutoTopicCreation: false, retry: { retries: 0 } });
    await consumer.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
        consumer.on(consumer.events.FETCH, () => resolve());
        consumer
          .subscribe({ topics: [topic], fromBeginning: true })
          .then(() => consumer.run({ eachMessage: async () => undefined }))
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }

  beforeAll(async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-sasl-'));
    kafka = await startSecuredLocalKafka({ port: await freePort(), controllerPort: await freePort(), stateDir: path.join(work, 'kafka') });
    database = await createScratchDatabase(new URL('/postgres', testEnv().databaseUrl).toString(), 'pinflow_sasl');
    stack = await startStack({
      kafkaBrokers: kafka.brokers,
      databaseUrl: database.url,
      stateDir: path.join(work, 'state'),
      logDir: path.join(work, 'logs'),
      logLevel: 'debug',
      env: kafka.appEnv(),
    });
    writeToken = await stack.secrets.token([PIN_WRITE_SCOPE, PIN_READ_SCOPE], { subject: 'mobile-backend' });
    client = new PinflowClient(stack, writeToken, writeToken);
    const admin = kafka.clientConfig(KAFKA_ADMIN_PRINCIPAL);
    recorder = await new TopicRecorder(kafka.brokers, [commandTopic('pismo'), EVENTS_TOPIC, DEAD_LETTER_TOPIC], { ssl: admin.ssl, sasl: admin.sasl }).start();
  }, 240_000);

  afterAll(async () => {
    await recorder?.stop();
    await stack?.stop();
    await kafka?.stop();
    await database?.drop();
  }, 60_000);

  it('changes a PIN end to end, each service on its own principal, with no secret in a message or log', async () => {
    const cardId = `sasl-card-${randomUUID().slice(0, 8)}`;
    await client.seedCard(cardId);

    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PIN) });

    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PIN })).body).toEqual({ matches: true });
    await recorder.waitForJson(EVENTS_TOPIC, (event: { type?: string; subject?: string }) => event.type === EVENT_TYPES.passwordChanged && event.subject === cardId);
    const audited = await waitFor('the audit trail of the change', async () => {
      const { status, body } = await client.auditRequest(accepted.body.requestId);
      return status === 200 && body.events?.some((event: { type: string }) => event.type === EVENT_TYPES.passwordChanged) ? body : undefined;
    });
    expect(audited.events.length).toBeGreaterThan(0);
    // Every flow of every service is covered by its grants: the broker refused none of them.
    expect(readLogs(stack)).not.toMatch(/AUTHORIZATION_FAILED|Not authorized/i);
    const passwords = Object.values(kafka.credentials).map((credential) => credential.password);
    expect(occurrences(recorder.messages.map((message) => message.value).join('\n'), [PIN])).toEqual([]);
    expect(passwords.filter((password) => readLogs(stack).includes(password))).toEqual([]);
  });

  it("changes a PIN at every vendor: each worker's grants cover all it does", async () => {
    const scenarios = new PinChangeScenarios(stack, writeToken);
    for (const vendor of VENDOR_NAMES) {
      const cardId = scenarios.cardId(vendor, 1);
      await scenarios.seed(vendor, cardId);
      const request = await scenarios.request(vendor, cardId);
      const accepted = await client.submit(request.path, request.body);
      expect(accepted.status).toBe(202);
      expect({ vendor, status: (await client.outcome(accepted.body.requestId)).status }).toEqual({ vendor, status: 'succeeded' });
    }
    expect(readLogs(stack)).not.toMatch(/AUTHORIZATION_FAILED|Not authorized/i);
  });

  it("refuses worker-pismo's principal Vault's commands, but lets it read its own", async () => {
    const vault = await refusal('worker-pismo', (client) => consume(client, commandTopic('vault'), 'pinflow-worker-pismo-probe'));
    expect(vault?.cause?.type).toBe('TOPIC_AUTHORIZATION_FAILED');

    expect(await refusal('worker-pismo', (client) => consume(client, commandTopic('pismo'), 'pinflow-worker-pismo-probe'))).toBeUndefined();
  });

  it("refuses worker-pismo's principal a consumer group that is not its own, on the topic it may read", async () => {
    const error = await refusal('worker-pismo', (client) => consume(client, commandTopic('pismo'), 'pinflow-worker-vault'));
    // kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED to FindCoordinator as a coordinator it cannot find.
    expect(error?.name).toBe('KafkaJSGroupCoordinatorNotFound');
  });

  it('refuses a command written by anyone but intake: a worker cannot forge one, audit cannot write events', async () => {
    const forged = await refusal('worker-pismo', (client) => produce(client, commandTopic('pismo')));
    expect(forged?.message).toMatch(/Not authorized to access topics/);

    const event = await refusal('audit', (client) => produce(client, EVENTS_TOPIC));
    expect(event?.message).toMatch(/Not authorized to access topics/);

    expect(recorder.messages.filter((message) => message.value.includes('forged'))).toEqual([]);
  });

  it('refuses a client without credentials, or with a wrong password', async () => {
    const anonymous = await refusal(undefined, (client) => produce(client, commandTopic('pismo')));
    expect(anonymous?.name).toMatch(/^KafkaJS/);

    const plaintext = await refusal(undefined, (client) => produce(client, commandTopic('pismo')), { ssl: false });
    expect(plaintext?.name).toMatch(/^KafkaJS/);

    const wrongPassword = await refusal('intake', (client) => produce(client, commandTopic('pismo')), {
      sasl: { mechanism: 'scram-sha-512', username: 'intake', password: 'not-the-password' },
    });
    expect(wrongPassword?.name).toBe('KafkaJSSASLAuthenticationError');
  });
});
