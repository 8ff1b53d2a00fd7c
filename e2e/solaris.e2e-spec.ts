import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { Stack } from '@pinflow/platform';
import { SolarisDevice, TopicRecorder, waitFor } from '@pinflow/testing';
import { createHash, randomUUID } from 'node:crypto';
import { SolarisWorld } from './solaris-support';
import { http, PinflowClient, startSuite, Suite } from './support';

/**
 * The Solaris path as a card issuer's mobile app and backend use it: the app gets Solaris' PIN key
 * through intake, the cardholder's bound device encrypts and signs the new PIN, the backend relays
 * it to intake; Kafka, the worker, the Solaris sandbox over HTTP and the audit trail follow, each
 * service its own process. pinflow never sees the PIN: Solaris alone judges it.
 */
describe('Solaris PIN changes end to end', () => {
  const COMMAND_TOPIC = commandTopic('solaris');
  // Every PIN a device encrypts in this suite; none may be found outside the sandbox's memory.
  // Four digits, as Solaris wants them.
  const PINS = {
    changed: '8264',
    repeated: '9371',
    otherBody: '7592',
    sequence: '6789',
    tripled: '8988',
    unsigned: '8153',
    foreignDevice: '9428',
    unknownCard: '7395',
  };

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let writeToken: string;
  let readToken: string;
  let world: SolarisWorld;

  /** The issuer's backend relaying the app's request to intake. */
  const changePin = (cardId: string, body: unknown, idempotencyKey?: string) => client.submit(`/v1/solaris/cards/${cardId}/pin`, body, { idempotencyKey });

  const pinChangesOf = async (cardId: string): Promise<number> => (await world.hook('GET', `/sandbox/cards/${cardId}`)).pinChanges;
  const timesApplied = async (encryptedPin: string): Promise<number> =>
    (await world.hook('GET', '/sandbox/applied'))[createHash('sha256').update(encryptedPin).digest('hex')]?.pinChanges ?? 0;
  const messagesOf = (cardId: string) => recorder.messages.filter((message) => message.key === cardId);

  beforeAll(async () => {
    suite = await startSuite({
      apps: ['sandbox-solaris', 'worker-solaris', 'audit', 'intake'],
      env: { 'worker-solaris': { SOLARIS_RETRY_BASE_MS: '50' } },
      writer: 'mobile-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC],
    });
    ({ stack, client, recorder, writeToken, readToken } = suite);
    world = await SolarisWorld.of(stack, writeToken);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('hands the app Solaris’ current PIN key through intake, to the issuer’s backend only', async () => {
    const fromSolaris = await world.sandbox.call('GET', '/v1/cards/pin_keys/latest');

    const served = await http('GET', `${stack.urls.intake}/v1/solaris/pin-key`, { token: writeToken });

    expect(served.status).toBe(200);
    expect(served.body).toEqual(fromSolaris.body);
    expect(served.body).toMatchObject({ kty: 'RSA', kid: expect.any(String), n: expect.any(String), e: expect.any(String) });
    expect(served.body).not.toHaveProperty('d');
    expect((await http('GET', `${stack.urls.intake}/v1/solaris/pin-key`)).status).toBe(401);
    expect((await http('GET', `${stack.urls.intake}/v1/solaris/pin-key`, { token: readToken })).status).toBe(403);
  });

  it('changes a PIN made on the device: 202, then succeeded with password.changed, Solaris holds the new PIN, and the audit trail has both events', async () => {
    const { cardId, device } = await world.cardholder();

    const accepted = await changePin(cardId, await world.onDevice(device, PINS.changed));

    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ requestId: expect.any(String), status: 'accepted', statusUrl: `${stack.urls.intake}/v1/requests/${accepted.body.requestId}` });
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome).toMatchObject({ status: 'succeeded', vendor: 'solaris', operation: 'change_pin', cardId });
    expect(outcome.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
    expect((await world.hook('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.changed })).matches).toBe(true);
    const trail = await waitFor('the audit trail of the request', async () => {
      const result = await client.auditRequest(accepted.body.requestId);
      return result.body.status === 'succeeded' ? result.body : undefined;
    });
    expect(trail.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
  });

  describe('Solaris’ own refusals: intake cannot judge a PIN it cannot read, so they come back as failures carrying Solaris’ error', () => {
    it.each([
      ['a PIN that is a sequence', 'sequence', 400, 'VENDOR_REJECTED', { code: 'invalid_pin', field: 'pin' }],
      ['a PIN with a digit three times', 'tripled', 400, 'VENDOR_REJECTED', { code: 'invalid_pin', field: 'pin' }],
      ['a JWE its bound device did not sign', 'unsigned', 400, 'VENDOR_REJECTED', { code: 'validation_error', field: 'signature' }],
      ['a device bound to another person', 'foreignDevice', 403, 'VENDOR_REJECTED', { code: 'unauthorized_action' }],
      ['a card Solaris does not know', 'unknownCard', 404, 'CARD_NOT_FOUND', { code: 'model_not_found' }],
    ] as const)('%s', async (_case, pinName, vendorStatus, reason, vendorError) => {
      const cardholderOfCard = await world.cardholder();
      const someoneElse = await world.cardholder();
      const device = pinName === 'foreignDevice' ? someoneElse.device : cardholderOfCard.device;
      const cardId = pinName === 'unknownCard' ? world.newCardId() : cardholderOfCard.cardId;
      const body = await world.onDevice(device, PINS[pinName]);
      if (pinName === 'unsigned') body.signature = new SolarisDevice().sign(body.encryptedPin);

      const accepted = await changePin(cardId, body);

      expect(accepted.status).toBe(202);
      const outcome = await client.outcome(accepted.body.requestId);
      expect(outcome.status).toBe('failed');
      const failure = outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed);
      expect(failure.data).toMatchObject({ vendor: 'solaris', operation: 'change_pin', reason, vendorStatus, vendorError: { ...vendorError, title: expect.any(String) } });
      if (pinName !== 'unknownCard') expect(await pinChangesOf(cardId)).toBe(0);
    });
  });

  it('answers a repeated Idempotency-Key with the first answer, relays the change once, and refuses the key for another body', async () => {
    const { cardId, device } = await world.cardholder();
    const key = randomUUID();
    const body = await world.onDevice(device, PINS.repeated);

    const first = await changePin(cardId, body, key);
    const second = await changePin(cardId, body, key);
    const otherBody = await changePin(cardId, await world.onDevice(device, PINS.otherBody), key);

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await client.outcome(first.body.requestId)).status).toBe('succeeded');
    expect(messagesOf(cardId).filter((message) => message.topic === COMMAND_TOPIC)).toHaveLength(1);
    expect(await timesApplied(body.encryptedPin)).toBe(1);
    expect(await pinChangesOf(cardId)).toBe(1);
  });

  it.each([
    ['a clear PIN (Solaris PINs come encrypted by the device)', { pin: PINS.changed }],
    ['a request without the device’s signature', { signature: undefined }],
  ])('refuses %s with a problem body and publishes nothing', async (_case, change) => {
    const { cardId, device } = await world.cardholder();
    const body = { ...(await world.onDevice(device, PINS.changed)), ...change };

    const response = await changePin(cardId, body);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    // Give a wrongly published command time to show up before concluding there is none.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messagesOf(cardId)).toEqual([]);
  });

  it('leaves no PIN in any topic, service log or database row, and no relayed JWE or signature in any log', async () => {
    await world.expectNoLeaks(recorder, Object.values(PINS), 15);
  });
});
