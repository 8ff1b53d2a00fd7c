import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { Stack } from '@pinflow/platform';
import { TopicRecorder, waitFor } from '@pinflow/testing';
import { SolarisCardholder, SolarisWorld } from './solaris-support';
import { http, PinflowClient, startSuite, Suite } from './support';

interface TextMessage {
  changeRequestId: string;
  tan: string;
}

/**
 * Solaris' strong-customer-authentication variant as an issuer's app and backend use it, in two
 * pinflow requests: the device-made PIN change becomes a change request (Solaris texts the cardholder
 * a TAN, and pinflow's event names the change request); the TAN the cardholder typed, sealed to
 * pinflow's key, confirms it, and only then does Solaris change the PIN. Each service its own process.
 */
describe('Solaris PIN change requests end to end', () => {
  const COMMAND_TOPIC = commandTopic('solaris');
  // Every PIN a device encrypts in this suite, four digits as Solaris wants them; with every TAN Solaris
  // texted, none may be found outside the sandbox's memory.
  const PINS = { confirmed: '8264', signedByDevice: '4927', wrongTan: '7049', expired: '6150', tooManyWrong: '3816' };
  // sandbox-solaris' MAX_WRONG_CONFIRMATIONS: Solaris' documents give no number.
  const WRONG_CONFIRMATIONS_ALLOWED = 3;
  const tans: string[] = [];

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let writeToken: string;
  let pinflowKey: PinPublicJwk;
  let world: SolarisWorld;

  /** Step one: the device encrypts and signs the PIN as for change_pin; the backend adds the person. */
  async function requestChange({ personId, cardId, device }: SolarisCardholder, pin: string, deliveryMethod?: 'device_signing') {
    const body = { ...(await world.onDevice(device, pin)), personId, ...(deliveryMethod ? { deliveryMethod } : {}) };
    return client.submit(`/v1/solaris/cards/${cardId}/pin/change-requests`, body);
  }

  /** Step one done: the change request its event names, and the TAN the cardholder's phone received. */
  async function awaitingConfirmation(holder: SolarisCardholder, pin: string): Promise<{ changeRequestId: string; tan: string }> {
    const accepted = await requestChange(holder, pin);
    expect(accepted.status).toBe(202);
    const outcome = await client.outcome(accepted.body.requestId);
    const required = outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.confirmationRequired);
    const { changeRequestId } = required.data;
    return { changeRequestId, tan: await textedTan(holder.personId, changeRequestId) };
  }

  async function textedTan(personId: string, changeRequestId: string): Promise<string> {
    const texts = (await world.hook('GET', `/sandbox/persons/${personId}/sms`)) as TextMessage[];
    const { tan } = texts.find((text) => text.changeRequestId === changeRequestId)!;
    tans.push(tan);
    return tan;
  }

  /** Step two: the app seals the TAN the cardholder typed to pinflow's published key. */
  const confirm = async ({ personId, cardId }: SolarisCardholder, changeRequestId: string, tan: string) =>
    client.submit(`/v1/solaris/cards/${cardId}/pin/change-requests/${changeRequestId}/confirm`, { personId, encryptedTan: await encryptSecret('oneTimeCode', tan, pinflowKey) });

  const otherThan = (tan: string) => (tan === '000000' ? '111111' : '000000');
  const verifies = async (cardId: string, pin: string) => (await world.hook('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).matches;
  const failureIn = (outcome: { events: { type: string; data: any }[] }) => outcome.events.find((event) => event.type === EVENT_TYPES.failed)?.data;

  beforeAll(async () => {
    suite = await startSuite({
      apps: ['sandbox-solaris', 'worker-solaris', 'audit', 'intake'],
      env: { 'worker-solaris': { SOLARIS_RETRY_BASE_MS: '50' } },
      writer: 'mobile-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC],
    });
    ({ stack, client, recorder, writeToken } = suite);
    world = await SolarisWorld.of(stack, writeToken);
    pinflowKey = (await http('GET', `${stack.urls.intake}/v1/pin-keys`)).body.keys[0];
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('changes the PIN in two requests: confirmation_required names the change request, the TAN confirms it, password.changed follows, and the audit trail has each step', async () => {
    const holder = await world.cardholder();

    const first = await requestChange(holder, PINS.confirmed);
    expect(first.status).toBe(202);
    const pending = await client.outcome(first.body.requestId);
    expect(pending).toMatchObject({ status: 'succeeded', vendor: 'solaris', operation: 'change_pin_request', cardId: holder.cardId });
    expect(pending.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.confirmationRequired]);
    const required = pending.events[1].data;
    expect(required).toMatchObject({ changeRequestStatus: 'CONFIRMATION_REQUIRED', deliveryMethod: 'mobile_number', changeRequestId: expect.any(String) });
    expect(await verifies(holder.cardId, PINS.confirmed)).toBe(false);

    const second = await confirm(holder, required.changeRequestId, await textedTan(holder.personId, required.changeRequestId));
    expect(second.status).toBe(202);
    const done = await client.outcome(second.body.requestId);

    expect(done).toMatchObject({ status: 'succeeded', operation: 'confirm_change_request' });
    expect(done.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
    expect(await verifies(holder.cardId, PINS.confirmed)).toBe(true);
    const trail = await waitFor('the card’s audit trail to hold both steps', async () => {
      const types = ((await client.auditCard(holder.cardId)).body.events ?? []).map((event: { type: string }) => event.type);
      return types.includes(EVENT_TYPES.passwordChanged) && types.includes(EVENT_TYPES.confirmationRequired) && types;
    });
    expect(trail.filter((type: string) => type === EVENT_TYPES.accepted)).toHaveLength(2);
  });

  it('confirms by device signing: the event hands the app the string its device signs, and the signature changes the PIN', async () => {
    const holder = await world.cardholder();
    const pending = await client.outcome((await requestChange(holder, PINS.signedByDevice, 'device_signing')).body.requestId);
    const required = pending.events.find((event: { type: string }) => event.type === EVENT_TYPES.confirmationRequired).data;
    expect(required).toMatchObject({ deliveryMethod: 'device_signing', stringToSign: expect.any(String) });

    const signature = holder.device.sign(required.stringToSign);
    world.relayed.push(signature);
    const path = `/v1/solaris/cards/${holder.cardId}/pin/change-requests/${required.changeRequestId}/signature`;
    const done = await client.outcome((await client.submit(path, { personId: holder.personId, signature })).body.requestId);

    expect(done).toMatchObject({ status: 'succeeded', operation: 'sign_change_request' });
    expect(await verifies(holder.cardId, PINS.signedByDevice)).toBe(true);
  });

  it('fails the confirmation with Solaris’ invalid_tan for a wrong TAN, and the PIN stays as it was', async () => {
    const holder = await world.cardholder();
    const { changeRequestId, tan } = await awaitingConfirmation(holder, PINS.wrongTan);

    const outcome = await client.outcome((await confirm(holder, changeRequestId, otherThan(tan))).body.requestId);

    expect(outcome.status).toBe('failed');
    expect(failureIn(outcome)).toMatchObject({ operation: 'confirm_change_request', reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'invalid_tan', field: 'tan' } });
    expect(await verifies(holder.cardId, PINS.wrongTan)).toBe(false);
  });

  it(`fails the change request once ${WRONG_CONFIRMATIONS_ALLOWED} wrong TANs used up its tries: the last, and the right TAN after it, fail with CONFIRMATION_ATTEMPTS_EXHAUSTED, and the PIN stays as it was`, async () => {
    const holder = await world.cardholder();
    const { changeRequestId, tan } = await awaitingConfirmation(holder, PINS.tooManyWrong);
    const outcomes = [];

    for (let attempt = 0; attempt < WRONG_CONFIRMATIONS_ALLOWED; attempt += 1) outcomes.push(await client.outcome((await confirm(holder, changeRequestId, otherThan(tan))).body.requestId));
    const rightTooLate = await client.outcome((await confirm(holder, changeRequestId, tan)).body.requestId);

    for (const outcome of outcomes.slice(0, -1)) expect(failureIn(outcome)).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'invalid_tan' } });
    for (const outcome of [outcomes.at(-1)!, rightTooLate]) {
      expect(outcome.status).toBe('failed');
      expect(failureIn(outcome)).toMatchObject({ operation: 'confirm_change_request', reason: 'CONFIRMATION_ATTEMPTS_EXHAUSTED', vendorStatus: 410, vendorError: { code: 'too_many_wrong_confirmations' } });
    }
    expect(await verifies(holder.cardId, PINS.tooManyWrong)).toBe(false);
  });

  it('fails the confirmation of a change request that expired, the right TAN notwithstanding', async () => {
    const holder = await world.cardholder();
    const { changeRequestId, tan } = await awaitingConfirmation(holder, PINS.expired);
    await world.hook('POST', `/sandbox/change_requests/${changeRequestId}/expire`);

    const outcome = await client.outcome((await confirm(holder, changeRequestId, tan)).body.requestId);

    expect(failureIn(outcome)).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 410, vendorError: { code: 'change_request_expired' } });
    expect(await verifies(holder.cardId, PINS.expired)).toBe(false);
  });

  it('refuses a confirmation whose change request id could not be Solaris’, with a problem body', async () => {
    const holder = await world.cardholder();
    const response = await client.submit(`/v1/solaris/cards/${holder.cardId}/pin/change-requests/a.b/confirm`, { personId: holder.personId, tan: '123456' });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('leaves no PIN or TAN in any topic, service log or database row, and no relayed JWE or signature in any log', async () => {
    expect(tans.length).toBeGreaterThanOrEqual(3);

    await world.expectNoLeaks(recorder, [...Object.values(PINS), ...tans], 10);
  });
});
