import { PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, REQUEST_SCHEMA_VERSION } from '@pinflow/contracts';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { KAFKA_ADMIN_PRINCIPAL, KAFKA_REQUESTERS, KafkaPrincipal, KafkaRequester, KafkaRequesterName, PinChangeScenarios, SecuredLocalKafka, Stack, startSecuredLocalKafka, startStack, VENDOR_NAMES } from '@pinflow/platform';
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
 * can neither read another vendor's commands nor forge one. This suite runs its own broker.
 */
describe('Kafka over SASL_SSL, one principal per service', () => {
  const PIN = '730418';
  let kafka: SecuredLocalKafka;
  let database: ScratchDatabase;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let writeToken: string;
  /** Upstream systems on intake's Kafka door, each producing as its own principal. */
  let coreBanking: KafkaRequester;
  let cardLifecycle: KafkaRequester;

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
    const requester = (name: KafkaRequesterName) => KafkaRequester.create(name, [KAFKA_REQUESTERS[name]]);
    [coreBanking, cardLifecycle] = await Promise.all([requester('core-banking'), requester('card-lifecycle')]);
    const appEnv = kafka.appEnv();
    stack = await startStack({
      kafkaBrokers: kafka.brokers,
      databaseUrl: database.url,
      stateDir: path.join(work, 'state'),
      logDir: path.join(work, 'logs'),
      logLevel: 'debug',
      env: { ...appEnv, intake: { ...appEnv.intake, ...KafkaRequester.intakeEnvOf([coreBanking, cardLifecycle]) } },
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

  describe("intake's Kafka door, each requester producing as its own principal", () => {
    /** A Pismo PIN change for a new card, as `signer` signs it, with the request id its answer carries. */
    async function signedRequest(signer: KafkaRequester) {
      const cardId = `sasl-door-${randomUUID().slice(0, 8)}`;
      await client.seedCard(cardId);
      const clientRequestId = randomUUID();
      const request = { schemaVersion: REQUEST_SCHEMA_VERSION, clientRequestId, replyTopic: KAFKA_REQUESTERS[signer.name as KafkaRequesterName], vendor: 'pismo', operation: 'change_pin', cardId, body: { encryptedPin: await client.encrypt(PIN) } };
      return { cardId, clientRequestId, message: await signer.message(cardId, request) };
    }

    it('takes a request its requester published on its own topic and answers it on its reply topic, which the requester reads', async () => {
      const { ssl, sasl } = kafka.clientConfig('core-banking');
      const answers = await new TopicRecorder(kafka.brokers, [KAFKA_REQUESTERS['core-banking']], { ssl, sasl }, 'core-banking').start();
      try {
        const { cardId, clientRequestId, message } = await signedRequest(coreBanking);

        expect(await refusal('core-banking', (client) => produce(client, coreBanking.topic, message))).toBeUndefined();

        const accepted = await answers.waitForJson<{ type: string; data: { clientRequestId: string; caller: string; requestId: string } }>(KAFKA_REQUESTERS['core-banking'], (event) => event.data?.clientRequestId === clientRequestId);
        expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, subject: cardId, data: { caller: 'core-banking', clientRequestId } });
        // Its status is the requester's to ask (over HTTP, as its own caller): the outcome event says it.
        await recorder.waitForJson(EVENTS_TOPIC, (event: { type?: string; data?: { requestId?: string } }) => event.type === EVENT_TYPES.passwordChanged && event.data?.requestId === accepted.data.requestId);
      } finally {
        await answers.stop();
      }
    });

    it("refuses a requester's principal another requester's topic", async () => {
      const { message } = await signedRequest(coreBanking);

      const refused = await refusal('core-banking', (client) => produce(client, cardLifecycle.topic, message));

      expect(refused?.message).toMatch(/Not authorized to access topics/);
    });

    it("rejects a request signed by one requester that another put on its own topic (REQUESTER_MISMATCH): nothing is sent to the vendor", async () => {
      const { cardId, clientRequestId, message } = await signedRequest(coreBanking);

      expect(await refusal('card-lifecycle', (client) => produce(client, cardLifecycle.topic, message))).toBeUndefined();

      const rejected = await recorder.waitForJson<{ type: string; data: { clientRequestId?: string; caller?: string; problem: { code: string } } }>(EVENTS_TOPIC, (event) => event.data?.clientRequestId === clientRequestId);
      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { problem: { code: 'REQUESTER_MISMATCH' } } });
      expect(rejected.data.caller).toBeUndefined();
      const letter = await waitFor('the dead letter', async () => recorder.messages.find((recorded) => recorded.topic === DEAD_LETTER_TOPIC && recorded.key === cardId));
      expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'REQUESTER_MISMATCH', [DEAD_LETTER_HEADERS.topic]: cardLifecycle.topic });
      expect(recorder.messages.filter((recorded) => recorded.topic === commandTopic('pismo') && recorded.key === cardId)).toEqual([]);
    });
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
