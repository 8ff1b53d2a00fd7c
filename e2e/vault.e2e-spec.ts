import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { Stack } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { randomInt, randomUUID } from 'node:crypto';
import { dumpDatabase, http, PinflowClient, readLogs, sandboxOf, shortPinOccurrences, startSuite, Suite } from './support';

/**
 * The Vault path as a card issuer's app and backend use it: Vault texts the cardholder a one-time
 * code, the app seals the new passcode and the code to pinflow's published key, the backend posts
 * them to intake; Kafka, the worker, the Vault sandbox over HTTP and the audit trail follow, each
 * service its own process.
 */
describe('Vault passcodes end to end', () => {
  const COMMAND_TOPIC = commandTopic('vault');
  // Every passcode this suite sends; none may be found outside memory afterwards. Vault's passcodes
  // are four digits: these start with 0, as no pid, port, offset or duration in a log line does.
  const PASSCODES = { set: '0739', wrongCode: '0582', reusedFirst: '0904', reusedAgain: '0630', repeated: '0815', otherBody: '0370', throughPinflow: '0461' };
  const REFUSED_BY_INTAKE = { tripled: '0111', sequence: '0123', tooLong: '07391' };
  /** Every one-time code Vault texted in this suite. */
  const codes: string[] = [];

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let vault: SandboxClient;
  let recorder: TopicRecorder;
  let pinflowKey: PinPublicJwk;

  const hook = async (method: string, route: string, body?: unknown) => {
    const answer = await vault.call(method, route, { body });
    if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${answer.text}`);
    return answer.body;
  };

  async function newCard(): Promise<string> {
    const cardId = String(randomInt(1, 2 ** 47));
    await hook('PUT', `/sandbox/cards/${cardId}`);
    return cardId;
  }

  /** Vault texts the cardholder a code (`sms/send`); the cardholder reads it off the phone (the sandbox's hook). */
  async function textedCode(cardId: string): Promise<string> {
    expect(await hook('POST', `/v2/card/${cardId}/passcode/sms/send`)).toEqual({ result: 'ok' });
    const { code } = await hook('GET', `/sandbox/cards/${cardId}/otp`);
    codes.push(code);
    return code;
  }

  /** The app seals passcode and code to the key intake publishes; the backend relays them. */
  async function sealed(passcode: string, code: string) {
    return { encryptedPasscode: await encryptSecret('passcode', passcode, pinflowKey), encryptedCode: await encryptSecret('oneTimeCode', code, pinflowKey) };
  }

  const setPasscode = (cardId: string, body: unknown, idempotencyKey?: string) => client.submit(`/v1/vault/cards/${cardId}/passcode`, body, { idempotencyKey });
  const verifies = async (cardId: string, passCode: string) => (await hook('POST', `/sandbox/cards/${cardId}/verify-passcode`, { passCode })).matches;
  const failureIn = (outcome: { events: { type: string; data: any }[] }) => outcome.events.find((event) => event.type === EVENT_TYPES.failed)?.data;

  beforeAll(async () => {
    suite = await startSuite({
      apps: ['sandbox-vault', 'worker-vault', 'audit', 'intake'],
      env: { 'worker-vault': { VAULT_RETRY_BASE_MS: '50' } },
      writer: 'mobile-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC],
    });
    ({ stack, client, recorder } = suite);
    vault = await sandboxOf(stack, 'sandbox-vault', '/v2/auth/token');
    pinflowKey = (await http('GET', `${stack.urls.intake}/v1/pin-keys`)).body.keys[0];
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('sets a passcode with the texted code: 202, then succeeded with password.changed, Vault holds it, and the audit trail has both events', async () => {
    const cardId = await newCard();

    const accepted = await setPasscode(cardId, await sealed(PASSCODES.set, await textedCode(cardId)));

    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ requestId: expect.any(String), status: 'accepted', statusUrl: `${stack.urls.intake}/v1/requests/${accepted.body.requestId}` });
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]));
    expect(await verifies(cardId, PASSCODES.set)).toBe(true);
    const history = await waitFor('the audit trail of the request', async () => {
      const result = await client.auditRequest(accepted.body.requestId);
      return result.body.status === 'succeeded' ? result.body : undefined;
    });
    expect(history.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
  });

  it('runs the SMS step through pinflow: a code is texted on request, checked without being used up, then sets the passcode', async () => {
    const cardId = await newCard();

    const requested = await client.submit(`/v1/vault/cards/${cardId}/verification-code`, undefined);
    expect(requested.status).toBe(202);
    const sent = await client.outcome(requested.body.requestId);
    expect(sent.status).toBe('succeeded');
    expect(sent.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.verificationCodeSent]));
    // The cardholder reads the code off the phone: the sandbox's outbox.
    const { code } = await hook('GET', `/sandbox/cards/${cardId}/otp`);
    codes.push(code);

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    codes.push(wrong);
    const refused = await client.outcome((await client.submit(`/v1/vault/cards/${cardId}/verification-code/check`, { encryptedCode: await encryptSecret('oneTimeCode', wrong, pinflowKey) })).body.requestId);
    expect(refused.status).toBe('failed');
    expect(failureIn(refused)).toMatchObject({ operation: 'check_verification_code', reason: 'VENDOR_REJECTED', vendorError: { code: 'CODE_INVALID', field: 'code' } });

    const checked = await client.submit(`/v1/vault/cards/${cardId}/verification-code/check`, { encryptedCode: await encryptSecret('oneTimeCode', code, pinflowKey) });
    expect(checked.status).toBe(202);
    const check = await client.outcome(checked.body.requestId);
    expect(check.status).toBe('succeeded');
    expect(check.events.map((event: { type: string }) => event.type)).toContain(EVENT_TYPES.verificationCodeChecked);
    expect(await hook('GET', `/sandbox/cards/${cardId}/otp`)).toMatchObject({ used: false });

    const set = await setPasscode(cardId, await sealed(PASSCODES.throughPinflow, code));
    expect((await client.outcome(set.body.requestId)).status).toBe('succeeded');
    expect(await verifies(cardId, PASSCODES.throughPinflow)).toBe(true);
  });

  it('refuses a code check with a body that is not a sealed code, and a code request with a body, publishing nothing', async () => {
    const cardId = await newCard();

    const check = await client.submit(`/v1/vault/cards/${cardId}/verification-code/check`, { encryptedCode: 'not.a.jwe.at.all' });
    const request = await client.submit(`/v1/vault/cards/${cardId}/verification-code`, { phone: '+4915112345678' });

    expect([check.status, check.body.code]).toEqual([400, 'ONE_TIME_CODE_UNDECRYPTABLE']);
    expect([request.status, request.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(recorder.messages.filter((message) => message.key === cardId)).toEqual([]);
  });

  it('reports a code that is not the one texted as failed, with Vault’s CODE_INVALID in the status', async () => {
    const cardId = await newCard();
    const texted = await textedCode(cardId);
    const wrong = String((Number(texted) + 1) % 1_000_000).padStart(6, '0');

    const accepted = await setPasscode(cardId, await sealed(PASSCODES.wrongCode, wrong));

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(failureIn(outcome)).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'CODE_INVALID', field: 'code' } });
    expect((await hook('GET', `/sandbox/cards/${cardId}`)).passcodeChanges).toBe(0);
  });

  it('reports a code used a second time as failed, with Vault’s CODE_ALREADY_USED, and keeps the first passcode', async () => {
    const cardId = await newCard();
    const code = await textedCode(cardId);
    const first = await setPasscode(cardId, await sealed(PASSCODES.reusedFirst, code));
    expect((await client.outcome(first.body.requestId)).status).toBe('succeeded');

    const again = await setPasscode(cardId, await sealed(PASSCODES.reusedAgain, code));

    const outcome = await client.outcome(again.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(failureIn(outcome)).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'CODE_ALREADY_USED', field: 'code' } });
    expect(await verifies(cardId, PASSCODES.reusedFirst)).toBe(true);
  });

  it.each([
    ['a digit three times in a row', REFUSED_BY_INTAKE.tripled],
    ['a sequence', REFUSED_BY_INTAKE.sequence],
    ['five digits', REFUSED_BY_INTAKE.tooLong],
  ])('refuses a passcode with %s itself, with 422 and a problem body, and publishes nothing', async (_case, passcode) => {
    const cardId = await newCard();

    const response = await setPasscode(cardId, await sealed(passcode, await textedCode(cardId)));

    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 422, code: 'PIN_REJECTED', type: expect.any(String), title: expect.any(String) });
    // Give a wrongly published command time to show up before concluding there is none.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(recorder.messages.filter((message) => message.key === cardId)).toEqual([]);
  });

  it('answers a repeated Idempotency-Key with the first answer and sets the passcode once; refuses the key for another body', async () => {
    const cardId = await newCard();
    const code = await textedCode(cardId);
    const key = randomUUID();
    const body = await sealed(PASSCODES.repeated, code);

    const first = await setPasscode(cardId, body, key);
    const second = await setPasscode(cardId, body, key);
    const otherBody = await setPasscode(cardId, await sealed(PASSCODES.otherBody, code), key);

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await client.outcome(first.body.requestId)).status).toBe('succeeded');
    expect(recorder.messages.filter((message) => message.topic === COMMAND_TOPIC && message.key === cardId)).toHaveLength(1);
    expect((await hook('GET', `/sandbox/cards/${cardId}`)).passcodeChanges).toBe(1);
    expect(await verifies(cardId, PASSCODES.repeated)).toBe(true);
  });

  it('leaves no passcode or code it was given in any topic, service log or database row', async () => {
    const secrets = [...Object.values(PASSCODES), ...Object.values(REFUSED_BY_INTAKE), ...codes];
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(recorder.messages.length).toBeGreaterThan(10);
    expect(shortPinOccurrences(kafkaText, secrets)).toEqual([]);
    const logs = readLogs(stack);
    expect(logs).toContain('worker-vault');
    expect(shortPinOccurrences(logs, secrets)).toEqual([]);
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('vendor_commands');
    expect(shortPinOccurrences(rows, secrets)).toEqual([]);
  });
});
