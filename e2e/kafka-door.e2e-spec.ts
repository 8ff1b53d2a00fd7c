import { commandTopic, EVENT_TYPES } from '@pinflow/contracts';
import { DEAD_LETTER_HEADERS } from '@pinflow/kafka';
import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { PISMO_EVENTS_TOPIC, Stack } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { RecordedMessage, TopicRecorder, waitFor } from '@pinflow/testing';
import { generateKeyPair, type CryptoKey } from 'jose';
import { randomInt, randomUUID } from 'node:crypto';
import { KafkaDoorSuite, Publishing, startKafkaDoorSuite } from './kafka-door-support';
import { http, PinflowClient, sandboxOf, shortPinOccurrences } from './support';

/**
 * The Kafka door as an upstream system uses it, on a broker that speaks SASL_SSL only with the
 * platform's ACLs: each requester produces as its own principal, on the one request topic it may
 * write, and reads its answers on its reply topic as itself.
 */
describe('Requests through the Kafka door end to end, over SASL_SSL', () => {
  // Every PIN and passcode this suite sends; none may be found outside memory afterwards.
  const PINS = { pismo: '739146', pismoRepeated: '815263', pismoOther: '370851', pismoUnsigned: '461938', pismoWrongKey: '582047', pismoMalformed: '904317', pismoElsewhere: '528160', pismoOffline: '286419', pismoTrespass: '640372', vault: '0739', vaultRepeated: '0815', vaultOther: '0370' };
  const WEAK = { pismo: '123456', vault: '0123' };
  const codes: string[] = [];

  let door: KafkaDoorSuite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let vault: SandboxClient;
  let pinflowKey: PinPublicJwk;
  let strangerKey: CryptoKey;
  let replyTopic: string;

  beforeAll(async () => {
    strangerKey = (await generateKeyPair('ES256')).privateKey;
    door = await startKafkaDoorSuite({
      broker: 'secured',
      apps: ['sandbox-pismo', 'worker-pismo', 'sandbox-vault', 'worker-vault', 'intake'],
      env: { 'worker-pismo': { PISMO_RETRY_BASE_MS: '50' }, 'worker-vault': { VAULT_RETRY_BASE_MS: '50' } },
      writer: 'mobile-backend',
      topics: [commandTopic('pismo'), commandTopic('vault'), PISMO_EVENTS_TOPIC],
    });
    ({ stack, client, recorder, replyTopic } = door);
    vault = await sandboxOf(stack, 'sandbox-vault', '/v2/auth/token');
    pinflowKey = (await http('GET', `${stack.urls.intake}/v1/pin-keys`)).body.keys[0];
  }, 180_000);

  afterAll(() => door?.stop(), 60_000);

  const publish = (cardId: string, request: unknown, signing: 'requester' | 'stranger' | 'none' = 'requester', publishing?: Publishing) =>
    door.publish(cardId, request, { requester: undefined, stranger: strangerKey, none: null }[signing], publishing);

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

      await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic, ...(await vendor.request(cardId, secrets.secret)) });

      const accepted = await door.answerTo(clientRequestId);
      expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, subject: cardId, data: { caller: door.requester.name, clientRequestId, requestId: expect.any(String) } });
      expect(await door.answerTo(clientRequestId, replyTopic)).toEqual(accepted);
      await door.outcomeOf(accepted.data.requestId, EVENT_TYPES.passwordChanged);
      expect(await vendor.holds(cardId, secrets.secret)).toBe(true);
      expect((await client.outcome(accepted.data.requestId)).status).toBe('succeeded');
    });

    it('rejects a secret the PIN rules refuse with a rejected answer carrying PIN_REJECTED, and sends the vendor nothing', async () => {
      const cardId = await vendor.newCard();
      const clientRequestId = randomUUID();

      await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic, ...(await vendor.request(cardId, secrets.weak)) });

      const rejected = await door.answerTo(clientRequestId);
      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { caller: door.requester.name, clientRequestId, problem: { status: 422, code: 'PIN_REJECTED' } } });
      expect(await door.answerTo(clientRequestId, replyTopic)).toEqual(rejected);
      expect(door.commandsFor(cardId)).toEqual([]);
    });

    it('answers a repeated request id with the same body with the same answer and one command; rejects it with another body as IDEMPOTENCY_KEY_REUSED', async () => {
      const cardId = await vendor.newCard();
      const clientRequestId = randomUUID();
      const request = { schemaVersion: 1, clientRequestId, ...(await vendor.request(cardId, secrets.repeated)) };

      await publish(cardId, request);
      await publish(cardId, request);
      await publish(cardId, { schemaVersion: 1, clientRequestId, ...(await vendor.request(cardId, secrets.other)) });

      // The first answer leaves through the outbox, the others straight away: their order may differ.
      const ofType = (type: string) => door.answersTo(clientRequestId).filter((answer) => answer.type === type);
      await waitFor('the answers to all three', async () => ofType(EVENT_TYPES.accepted).length >= 2 && ofType(EVENT_TYPES.rejected).length >= 1);
      const [first, ...repeated] = ofType(EVENT_TYPES.accepted);
      for (const again of repeated) expect(again).toMatchObject({ id: first.id, data: first.data });
      for (const rejected of ofType(EVENT_TYPES.rejected)) expect(rejected.data).toMatchObject({ clientRequestId, problem: { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' } });
      await door.outcomeOf(first.data.requestId, EVENT_TYPES.passwordChanged);
      expect(door.commandsFor(cardId)).toHaveLength(1);
      expect(await vendor.holds(cardId, secrets.repeated)).toBe(true);
    });
  });

  /** Publishes a signed request of the HTTP API's `operation` for the card, and waits for its accepted answer and then its success event. */
  async function fulfilled(vendor: string, operation: string, cardId: string, success: string, body?: unknown) {
    const clientRequestId = randomUUID();
    await publish(cardId, { schemaVersion: 1, clientRequestId, vendor, operation, cardId, ...(body === undefined ? {} : { body }) });
    const accepted = await door.answerTo(clientRequestId);
    expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, data: { vendor, operation, clientRequestId } });
    return door.outcomeOf(accepted.data.requestId, success);
  }

  it('Pismo: resets the password tries of a blocked card, which Pismo unblocks', async () => {
    const cardId = `card-${randomUUID().slice(0, 8)}`;
    await client.seedCard(cardId, { status: 'BLOCKED' });

    await fulfilled('pismo', 'reset_password_tries', cardId, EVENT_TYPES.passwordTriesReset);

    expect((await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body).toMatchObject({ status: 'NORMAL', passwordTries: 0 });
  });

  it('Pismo: syncs the offline PIN through an issuer script', async () => {
    const cardId = await vendors.pismo.newCard();

    const appended = await fulfilled('pismo', 'sync_offline_pin', cardId, EVENT_TYPES.issuerScriptAppended);

    expect(appended.data).toMatchObject({ scriptType: 'SYNC_PIN' });
  });

  it('Pismo: updates the offline PIN through the issuer’s script from a sealed PIN', async () => {
    const cardId = `card-${randomUUID().slice(0, 8)}`;
    await client.seedCard(cardId, { accountId: 8675309 });

    const appended = await fulfilled('pismo', 'update_offline_pin', cardId, EVENT_TYPES.issuerScriptAppended, {
      encryptedPin: await client.encrypt(PINS.pismoOffline),
      scriptId: 'issuer-pin-update',
      accountId: '8675309',
    });

    expect(appended.data).toMatchObject({ scriptType: 'PIN_UPDATE' });
  });

  it('Vault: texts a code on request and checks the sealed code without using it up', async () => {
    const cardId = String(randomInt(1, 2 ** 47));
    await hook('PUT', `/sandbox/cards/${cardId}`);

    await fulfilled('vault', 'send_verification_code', cardId, EVENT_TYPES.verificationCodeSent);
    const { code } = await hook('GET', `/sandbox/cards/${cardId}/otp`);
    codes.push(code);
    await fulfilled('vault', 'check_verification_code', cardId, EVENT_TYPES.verificationCodeChecked, { encryptedCode: await encryptSecret('oneTimeCode', code, pinflowKey) });

    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: false });
  });

  it.each([
    ['without a signature', 'SIGNATURE_INVALID', 'none', 'requester', PINS.pismoUnsigned],
    ['signed with a key the requester did not register', 'SIGNATURE_INVALID', 'stranger', 'requester', PINS.pismoWrongKey],
    ["signed by the requester that another requester put on its own topic", 'REQUESTER_MISMATCH', 'requester', 'other', PINS.pismoElsewhere],
  ] as const)("refuses a request %s: dead-lettered, answered as %s in no one's name on the events topic only, nothing sent to the vendor", async (_case, code, signing, owner, pin) => {
    const cardId = await vendors.pismo.newCard();
    const clientRequestId = randomUUID();
    const topic = door[owner].topic;

    await publish(cardId, { schemaVersion: 1, clientRequestId, replyTopic, ...(await vendors.pismo.request(cardId, pin)) }, signing, { on: door[owner] });

    const rejected = await door.answerTo(clientRequestId);
    expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { clientRequestId, problem: { code } } });
    expect(rejected.data.caller).toBeUndefined();
    const letter: RecordedMessage = await door.deadLetterFor(cardId);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: code, [DEAD_LETTER_HEADERS.topic]: topic });
    expect(door.answersTo(clientRequestId, replyTopic)).toEqual([]);
    expect(door.commandsFor(cardId)).toEqual([]);
  });

  it("refuses a requester's principal another requester's topic: the broker, before intake sees anything", async () => {
    const cardId = await vendors.pismo.newCard();

    const refused = publish(cardId, { schemaVersion: 1, clientRequestId: randomUUID(), ...(await vendors.pismo.request(cardId, PINS.pismoTrespass)) }, 'requester', { on: door.other, by: door.requester });

    await expect(refused).rejects.toThrow(/Not authorized to access topics/);
    expect(recorder.messages.filter((message) => message.key === cardId)).toEqual([]);
  });

  it('dead-letters a request of an unknown schema version and answers it; dead-letters a message that is not JSON', async () => {
    const cardId = await vendors.pismo.newCard();
    const clientRequestId = randomUUID();
    const garbledCard = await vendors.pismo.newCard();

    await publish(cardId, { schemaVersion: 2, clientRequestId, replyTopic, ...(await vendors.pismo.request(cardId, PINS.pismoMalformed)) });
    await publish(garbledCard, '{"schemaVersion": 1, "clientRequestId": ');

    const rejected = await door.answerTo(clientRequestId);
    expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, data: { caller: door.requester.name, clientRequestId, problem: { code: 'SCHEMA_VERSION_UNSUPPORTED' } } });
    expect(await door.answerTo(clientRequestId, replyTopic)).toEqual(rejected);
    expect((await door.deadLetterFor(cardId)).headers[DEAD_LETTER_HEADERS.reason]).toBe('CONTRACT_VIOLATION');
    expect((await door.deadLetterFor(garbledCard)).headers[DEAD_LETTER_HEADERS.reason]).toBe('NOT_JSON');
    expect(door.commandsFor(cardId)).toEqual([]);
  });

  it('leaves no PIN, passcode or code it was given in any topic (the request topic included), service log or database row', async () => {
    const secrets = [...Object.values(PINS), ...Object.values(WEAK), ...codes];
    const { kafka, logs, rows } = await door.leakSurfaces();

    expect(recorder.messages.some((message) => message.topic === door.requester.topic)).toBe(true);
    expect(shortPinOccurrences(kafka, secrets)).toEqual([]);
    expect(logs).toContain('request from Kafka rejected');
    // Every flow of the door is covered by the grants: the broker refused none of the services.
    expect(logs).not.toMatch(/AUTHORIZATION_FAILED|Not authorized/i);
    expect(shortPinOccurrences(logs, secrets)).toEqual([]);
    expect(rows).toContain('intake_requests');
    expect(shortPinOccurrences(rows, secrets)).toEqual([]);
  });
});
