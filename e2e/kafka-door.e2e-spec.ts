import { commandTopic, EVENTS_TOPIC, EVENT_TYPES, REQUEST_SIGNATURE_HEADER, REQUESTS_TOPIC } from '@pinflow/contracts';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { PISMO_EVENTS_TOPIC, Stack } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { RecordedMessage, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt, randomUUID } from 'node:crypto';
import { dumpDatabase, http, PinflowClient, readLogs, sandboxOf, shortPinOccurrences, startSuite, Suite } from './support';

/**
 * The Kafka front door as an upstream system uses it: it publishes a signed request to
 * pinflow.requests.v1 and reads the answer (accepted or rejected) from pinflow.events.v1 and from
 * its reply topic; the outcome follows on the events topic as for an HTTP request.
 */
describe('Requests through the Kafka door end to end', () => {
  const REQUESTER = 'core-banking';
  const REPLY_TOPIC = `core-banking.pinflow-answers.${randomUUID().slice(0, 8)}`;
  // Every PIN and passcode this suite sends; none may be found outside memory afterwards.
  const PINS = { pismo: '739146', pismoRepeated: '815263', pismoOther: '370851', pismoUnsigned: '461938', pismoWrongKey: '582047', pismoMalformed: '904317', vault: '0739', vaultRepeated: '0815', vaultOther: '0370' };
  const WEAK = { pismo: '123456', vault: '0123' };
  const codes: string[] = [];

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let vault: SandboxClient;
  let pinflowKey: PinPublicJwk;
  let producer: Producer;
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;

  beforeAll(async () => {
    const keys = await generateKeyPair('ES256', { extractable: true });
    signingKey = keys.privateKey;
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    const jwksFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-door-')), 'core-banking.jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'core-banking-1', alg: 'ES256', use: 'sig' }] }));
    suite = await startSuite({
      apps: ['sandbox-pismo', 'worker-pismo', 'sandbox-vault', 'worker-vault', 'intake'],
      env: {
        intake: { INTAKE_KAFKA_REQUESTERS: JSON.stringify({ [REQUESTER]: { publicKeyFile: jwksFile, replyTopics: [REPLY_TOPIC] } }) },
        'worker-pismo': { PISMO_RETRY_BASE_MS: '50' },
        'worker-vault': { VAULT_RETRY_BASE_MS: '50' },
      },
      writer: 'mobile-backend',
      topics: [REQUESTS_TOPIC, EVENTS_TOPIC, REPLY_TOPIC, DEAD_LETTER_TOPIC, commandTopic('pismo'), commandTopic('vault'), PISMO_EVENTS_TOPIC],
    });
    ({ stack, client, recorder } = suite);
    vault = await sandboxOf(stack, 'sandbox-vault', '/v2/auth/token');
    pinflowKey = (await http('GET', `${stack.urls.intake}/v1/pin-keys`)).body.keys[0];
    producer = new Kafka({ clientId: 'core-banking', brokers: testEnv().kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect();
    await suite?.stop();
  }, 60_000);

  /** The requester's signature: a compact JWS with detached payload over the value's exact bytes. */
  async function signature(value: Buffer, key = signingKey): Promise<string> {
    const jws = await new CompactSign(value).setProtectedHeader({ alg: 'ES256', kid: 'core-banking-1', iss: REQUESTER }).sign(key);
    const [protectedHeader, , signed] = jws.split('.');
    return `${protectedHeader}..${signed}`;
  }

  /** Publishes a request keyed by its card; signed by the requester unless told otherwise. */
  async function publish(cardId: string, request: unknown, signing: 'requester' | 'stranger' | 'none' = 'requester'): Promise<void> {
    const value = Buffer.from(typeof request === 'string' ? request : JSON.stringify(request));
    const headers = signing === 'none' ? {} : { [REQUEST_SIGNATURE_HEADER]: await signature(value, signing === 'stranger' ? strangerKey : signingKey) };
    await producer.send({ topic: REQUESTS_TOPIC, messages: [{ key: cardId, value, headers }] });
  }

  const answersTo = (clientRequestId: string, topic = EVENTS_TOPIC) =>
    recorder.json<any>(topic).filter((event) => [EVENT_TYPES.accepted, EVENT_TYPES.rejected].includes(event.type) && event.data.clientRequestId === clientRequestId);
  const answerTo = (clientRequestId: string, topic = EVENTS_TOPIC) => waitFor(`the answer to ${clientRequestId} on ${topic}`, async () => answersTo(clientRequestId, topic)[0]);
  const outcomeOf = (requestId: string, type: string) =>
    recorder.waitForJson<any>(EVENTS_TOPIC, (event) => event.type === type && event.data.requestId === requestId, 30_000);
  const deadLetterFor = (cardId: string) => waitFor(`the dead letter of ${cardId}`, async () => recorder.messages.find((message) => message.topic === DEAD_LETTER_TOPIC && message.key === cardId));
  /** The commands published for a card, each once however often delivery repeated it (at least once). */
  const commandsFor = (cardId: string) => [
    ...new Set(recorder.messages.filter((message) => message.topic.startsWith('pinflow.commands.') && message.key === cardId).map((message) => JSON.parse(message.value).commandId)),
  ];

  const hook = async (method: string, route: string, body?: unknown) => {
    const answer = await vault.call(method, route, { body });
    if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${answer.text}`);
    return answer.body;
  };

  /** Per vendor: a new card, a request for it with a given secret, and whether the vendor now holds that secret. */
  const vendors = {
    pismo: {
      async newCard() {
        const cardId = `card-${randomUUID().slice(0, 8)}`;
        await client.seedCard(cardId);
        return cardId;
      },
      async request(cardId: string, pin: string) {
        return { vendor: 'pismo', operation: 'change_pin', cardId, body: { encryptedPin: await client.encrypt(pin) } };
      },
      async holds(cardId: string, pin: string) {
        return (await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body.matches;
      },
    },
    vault: {
      async newCard() {
        const cardId = String(randomInt(1, 2 ** 47));
        await hook('PUT', `/sandbox/cards/${cardId}`);
        await hook('POST', `/v2/card/${cardId}/passcode/sms/send`);
        return cardId;
      },
      async request(cardId: string, passcode: string) {
        const { code } = await hook('GET', `/sandbox/cards/${cardId}/otp`);
        codes.push(code);
        const body = { encryptedPasscode: await encryptSecret('passcode', passcode, pinflowKey), encryptedCode: await encryptSecret('oneTimeCode', code, pinflowKey) };
        return { vendor: 'vault', operation: 'set_passcode', cardId, body };
      },
      async holds(cardId: string, passCode: string) {
        return (await hook('POST', `/sandbox/cards/${cardId}/verify-passcode`, { passCode })).matches;
      },
    },
  };

  describe.each([
    ['Pismo', vendors.pismo, { secret: PINS.pismo, weak: WEAK.pismo, repeated: PINS.pismoRepeated, other: PINS.pismoOther }],
    ['Vault', vendors.vault, { secret: PINS.vault, weak: WEAK.vault, repeated: PINS.vaultRepeated, other: PINS.vaultOther }],
  ])('%s', (_vendor, vendor, secrets) => {
    it('accepts a signed request: the accepted answer on the events topic and the reply topic, then the vendor’s success event, and the vendor holds the new secret', async () => {
      const cardId = await vendor.newCard();
      const clientRequestId = randomUUID();

      await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic: REPLY_TOPIC, ...(await vendor.request(cardId, secrets.secret)) });

      const accepted = await answerTo(clientRequestId);
      expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, subject: cardId, data: { caller: REQUESTER, clientRequestId, requestId: expect.any(String) } });
      expect(await answerTo(clientRequestId, REPLY_TOPIC)).toEqual(accepted);
      await outcomeOf(accepted.data.requestId, EVENT_TYPES.passwordChanged);
      expect(await vendor.holds(cardId, secrets.secret)).toBe(true);
      expect((await client.outcome(accepted.data.requestId)).status).toBe('succeeded');
    });

    it('rejects a secret the PIN rules refuse with a rejected answer carrying PIN_REJECTED, and sends the vendor nothing', async () => {
      const cardId = await vendor.newCard();
      const clientRequestId = randomUUID();

      await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic: REPLY_TOPIC, ...(await vendor.request(cardId, secrets.weak)) });

      const rejected = await answerTo(clientRequestId);
      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { caller: REQUESTER, clientRequestId, problem: { status: 422, code: 'PIN_REJECTED' } } });
      expect(await answerTo(clientRequestId, REPLY_TOPIC)).toEqual(rejected);
      expect(commandsFor(cardId)).toEqual([]);
    });

    it('answers a repeated request id with the same body with the same answer and one command; rejects it with another body as IDEMPOTENCY_KEY_REUSED', async () => {
      const cardId = await vendor.newCard();
      const clientRequestId = randomUUID();
      const request = { schemaVersion: 1, clientRequestId, ...(await vendor.request(cardId, secrets.repeated)) };

      await publish(cardId, request);
      await publish(cardId, request);
      await publish(cardId, { schemaVersion: 1, clientRequestId, ...(await vendor.request(cardId, secrets.other)) });

      // The first answer leaves through the outbox, the others straight away: their order may differ.
      const ofType = (type: string) => answersTo(clientRequestId).filter((answer) => answer.type === type);
      await waitFor('the answers to all three', async () => ofType(EVENT_TYPES.accepted).length >= 2 && ofType(EVENT_TYPES.rejected).length >= 1);
      const [first, ...repeated] = ofType(EVENT_TYPES.accepted);
      for (const again of repeated) expect(again).toMatchObject({ id: first.id, data: first.data });
      for (const rejected of ofType(EVENT_TYPES.rejected)) expect(rejected.data).toMatchObject({ clientRequestId, problem: { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' } });
      await outcomeOf(first.data.requestId, EVENT_TYPES.passwordChanged);
      expect(commandsFor(cardId)).toHaveLength(1);
      expect(await vendor.holds(cardId, secrets.repeated)).toBe(true);
    });
  });

  it.each([
    ['without a signature', 'none', PINS.pismoUnsigned],
    ['signed with a key the requester did not register', 'stranger', PINS.pismoWrongKey],
  ] as const)('refuses a request %s: dead-lettered, answered as SIGNATURE_INVALID on the events topic only, nothing sent to the vendor', async (_case, signing, pin) => {
    const cardId = await vendors.pismo.newCard();
    const clientRequestId = randomUUID();

    await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic: REPLY_TOPIC, ...(await vendors.pismo.request(cardId, pin)) }, signing);

    const rejected = await answerTo(clientRequestId);
    expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, data: { clientRequestId, problem: { code: 'SIGNATURE_INVALID' } } });
    expect(rejected.data.caller).toBeUndefined();
    const letter: RecordedMessage = await deadLetterFor(cardId);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'SIGNATURE_INVALID', [DEAD_LETTER_HEADERS.topic]: REQUESTS_TOPIC });
    expect(answersTo(clientRequestId, REPLY_TOPIC)).toEqual([]);
    expect(commandsFor(cardId)).toEqual([]);
  });

  it('dead-letters a request of an unknown schema version and answers it; dead-letters a message that is not JSON', async () => {
    const cardId = await vendors.pismo.newCard();
    const clientRequestId = randomUUID();
    const garbledCard = await vendors.pismo.newCard();

    await publish(cardId, { schemaVersion: 2, clientRequestId, replyTopic: REPLY_TOPIC, ...(await vendors.pismo.request(cardId, PINS.pismoMalformed)) });
    await publish(garbledCard, '{"schemaVersion": 1, "clientRequestId": ');

    const rejected = await answerTo(clientRequestId);
    expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, data: { caller: REQUESTER, clientRequestId, problem: { code: 'SCHEMA_VERSION_UNSUPPORTED' } } });
    expect(await answerTo(clientRequestId, REPLY_TOPIC)).toEqual(rejected);
    expect((await deadLetterFor(cardId)).headers[DEAD_LETTER_HEADERS.reason]).toBe('CONTRACT_VIOLATION');
    expect((await deadLetterFor(garbledCard)).headers[DEAD_LETTER_HEADERS.reason]).toBe('NOT_JSON');
    expect(commandsFor(cardId)).toEqual([]);
  });

  it('leaves no PIN, passcode or code it was given in any topic (the request topic included), service log or database row', async () => {
    const secrets = [...Object.values(PINS), ...Object.values(WEAK), ...codes];
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(recorder.messages.some((message) => message.topic === REQUESTS_TOPIC)).toBe(true);
    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(shortPinOccurrences(kafkaText, secrets)).toEqual([]);
    const logs = readLogs(stack);
    expect(logs).toContain('request from Kafka rejected');
    expect(shortPinOccurrences(logs, secrets)).toEqual([]);
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('intake_requests');
    expect(shortPinOccurrences(rows, secrets)).toEqual([]);
  });
});
