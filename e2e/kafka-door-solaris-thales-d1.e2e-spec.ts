import { commandTopic, EVENT_TYPES } from '@pinflow/contracts';
import { encodeIso0 } from '@pinflow/pin-block';
import { encryptSecret } from '@pinflow/pin-crypto';
import { Stack, THALES_D1_ISSUER_ID } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { SolarisDevice, SolarisPinJwk, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { KafkaDoorSuite, startKafkaDoorSuite } from './kafka-door-support';
import { http, PinflowClient, sandboxOf, shortPinOccurrences } from './support';

/**
 * The Kafka door for the two vendors whose requests differ most from a plain sealed PIN: Solaris,
 * whose PIN the cardholder's device encrypts to Solaris and signs (pinflow relays it unread), and
 * Thales D1, which takes the PAN with the PIN. An upstream system publishes a signed request to
 * the requester's request topic; the answer, the vendor's outcome and the audit trail follow.
 */
describe('Solaris and Thales D1 requests through the Kafka door end to end', () => {
  // Every PIN and PAN this suite sends; none may be found outside memory afterwards.
  const PINS = { solaris: '8264', solarisSequence: '6789', thalesD1: '739146', thalesD1Weak: '7777', thalesD1ClearPan: '582047' };
  const PAN = '4761739001010119';
  // The clear ISO0 blocks the CMS receives: each gives its PIN away to anyone holding the PAN.
  const iso0Blocks: string[] = [];

  let door: KafkaDoorSuite;
  let stack: Stack;
  let client: PinflowClient;
  let solaris: SandboxClient;
  let thalesD1: SandboxClient;

  beforeAll(async () => {
    door = await startKafkaDoorSuite({
      apps: ['sandbox-solaris', 'worker-solaris', 'sandbox-thales-d1', 'worker-thales-d1', 'audit', 'intake'],
      env: { 'worker-solaris': { SOLARIS_RETRY_BASE_MS: '50' }, 'worker-thales-d1': { THALES_D1_RETRY_BASE_MS: '50' } },
      writer: 'issuer-backend',
      topics: [commandTopic('solaris'), commandTopic('thales-d1')],
    });
    ({ stack, client } = door);
    solaris = await sandboxOf(stack, 'sandbox-solaris', '/oauth2/token');
    thalesD1 = await sandboxOf(stack, 'sandbox-thales-d1');
  }, 180_000);

  afterAll(() => door?.stop(), 60_000);

  const call = async (sandbox: SandboxClient, method: string, route: string, body?: unknown) => {
    const answer = await sandbox.call(method, route, { body });
    if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${answer.text}`);
    return answer.body;
  };

  /** The request's audit trail once audit has recorded its outcome. */
  const auditTrail = (requestId: string, status: string) =>
    waitFor(`the audit trail of ${requestId}`, async () => {
      const result = await client.auditRequest(requestId);
      return result.body.status === status ? result.body : undefined;
    });
  const typesOf = (trail: { events: { type: string }[] }) => trail.events.map((event) => event.type);

  /** A signed request as the requester publishes it: envelope, vendor and operation, the HTTP API's path parameters and body. */
  const request = (fields: { cardId: string } & Record<string, unknown>) => ({ schemaVersion: 1, clientRequestId: randomUUID(), replyTopic: door.replyTopic, operation: 'change_pin', ...fields });

  /** Publishes the request and returns its answer on the events topic, once the reply topic has the same. */
  async function answered(published: ReturnType<typeof request>) {
    await door.publish(published.cardId, published);
    const answer = await door.answerTo(published.clientRequestId);
    expect(await door.answerTo(published.clientRequestId, door.replyTopic)).toEqual(answer);
    return answer;
  }

  /** Publishes the request and follows it: accepted for the requester, then password.changed, and the audit trail has both. */
  async function changed(published: ReturnType<typeof request>): Promise<void> {
    const accepted = await answered(published);
    expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, subject: published.cardId, data: { caller: door.requester.name, clientRequestId: published.clientRequestId, requestId: expect.any(String) } });
    await door.outcomeOf(accepted.data.requestId, EVENT_TYPES.passwordChanged);
    expect(typesOf(await auditTrail(accepted.data.requestId, 'succeeded'))).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
  }

  describe('Solaris', () => {
    /** A card of a person whose device is bound to Solaris. */
    async function cardholder(): Promise<{ cardId: string; device: SolarisDevice }> {
      const personId = `person-${randomUUID()}`;
      const cardId = `card-${randomUUID()}`;
      const device = new SolarisDevice(`device-${randomUUID()}`);
      await call(solaris, 'PUT', `/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex, purpose: 'restricted' });
      await call(solaris, 'PUT', `/sandbox/cards/${cardId}`, { personId });
      return { cardId, device };
    }

    /** What the cardholder's device made: the PIN encrypted to Solaris' key (served by intake) and signed. */
    async function onDevice(device: SolarisDevice, pin: string) {
      const key = await http<SolarisPinJwk>('GET', `${stack.urls.intake}/v1/solaris/pin-key`, { token: door.writeToken });
      const signed = await device.encryptAndSign(pin, key.body);
      return { deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature };
    }

    it('accepts a signed request: accepted on the events and reply topics, password.changed follows, Solaris holds the PIN, the audit trail has both', async () => {
      const { cardId, device } = await cardholder();

      await changed(request({ vendor: 'solaris', cardId, body: await onDevice(device, PINS.solaris) }));

      expect((await call(solaris, 'POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.solaris })).matches).toBe(true);
    });

    it('rejects a request without the device’s signature as VALIDATION_FAILED, and sends Solaris nothing', async () => {
      const { cardId, device } = await cardholder();
      const { signature: _dropped, ...unsigned } = await onDevice(device, PINS.solaris);
      const published = request({ vendor: 'solaris', cardId, body: unsigned });

      const rejected = await answered(published);

      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { vendor: 'solaris', caller: door.requester.name, problem: { status: 400, code: 'VALIDATION_FAILED' } } });
      expect(door.commandsFor(cardId)).toEqual([]);
    });

    it('accepts a PIN only Solaris can judge, and fails it with Solaris’ error when Solaris refuses it', async () => {
      const { cardId, device } = await cardholder();
      const published = request({ vendor: 'solaris', cardId, body: await onDevice(device, PINS.solarisSequence) });

      const accepted = await answered(published);

      expect(accepted.type).toBe(EVENT_TYPES.accepted);
      const failed = await door.outcomeOf(accepted.data.requestId, EVENT_TYPES.failed);
      expect(failed.data).toMatchObject({ vendor: 'solaris', reason: 'VENDOR_REJECTED', vendorError: { code: 'invalid_pin' } });
      expect(typesOf(await auditTrail(accepted.data.requestId, 'failed'))).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.failed]);
    });
  });

  describe('Thales D1', () => {
    async function seededCard(): Promise<string> {
      const cardId = `card-${randomUUID().slice(0, 8)}`;
      await call(thalesD1, 'PUT', `/sandbox/cards/${cardId}`, { pan: PAN });
      return cardId;
    }

    /** An ISO0 change with PIN and PAN sealed to pinflow's key, as the Kafka door requires. */
    async function sealedBody(pin: string) {
      iso0Blocks.push(encodeIso0(pin, PAN));
      const key = stack.secrets.pinKeyRing.currentPublicJwk;
      return { pinBlockFormat: 'ISO0', encryptedPin: await encryptSecret('pin', pin, key), encryptedPan: await encryptSecret('pan', PAN, key) };
    }

    it('accepts a signed request: accepted on the events and reply topics, password.changed follows, the CMS holds the PIN, the audit trail has both', async () => {
      const cardId = await seededCard();

      await changed(request({ vendor: 'thales-d1', issuerId: THALES_D1_ISSUER_ID, cardId, body: await sealedBody(PINS.thalesD1) }));

      expect((await call(thalesD1, 'POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.thalesD1 })).matches).toBe(true);
    });

    it('rejects a PIN the PIN rules refuse with PIN_REJECTED, and sends the CMS nothing', async () => {
      const cardId = await seededCard();
      const published = request({ vendor: 'thales-d1', issuerId: THALES_D1_ISSUER_ID, cardId, body: await sealedBody(PINS.thalesD1Weak) });

      const rejected = await answered(published);

      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, subject: cardId, data: { vendor: 'thales-d1', caller: door.requester.name, problem: { status: 422, code: 'PIN_REJECTED' } } });
      expect(door.commandsFor(cardId)).toEqual([]);
    });

    it('rejects a PAN in clear as VALIDATION_FAILED: the Kafka door takes secrets only sealed', async () => {
      const cardId = await seededCard();
      const { encryptedPan: _sealed, ...body } = await sealedBody(PINS.thalesD1ClearPan);
      const published = request({ vendor: 'thales-d1', issuerId: THALES_D1_ISSUER_ID, cardId, body: { ...body, pan: PAN } });

      const rejected = await answered(published);

      expect(rejected).toMatchObject({ type: EVENT_TYPES.rejected, data: { problem: { status: 400, code: 'VALIDATION_FAILED' } } });
      expect(door.commandsFor(cardId)).toEqual([]);
    });
  });

  it('leaves no PIN, PAN or PIN block in any topic (the request topic included), service log or database row', async () => {
    const secrets = [...Object.values(PINS), ...iso0Blocks];
    const { kafka, logs, rows } = await door.leakSurfaces();

    expect(door.recorder.messages.filter((message) => message.topic === door.requester.topic)).not.toHaveLength(0);
    expect(shortPinOccurrences(kafka, secrets)).toEqual([]);
    expect(shortPinOccurrences(logs, secrets)).toEqual([]);
    expect(shortPinOccurrences(rows, secrets)).toEqual([]);
    // The clear PAN was published on purpose by the rejected request above; it must have gone no further.
    expect(shortPinOccurrences(logs, [PAN])).toEqual([]);
    expect(shortPinOccurrences(rows, [PAN])).toEqual([]);
  });
});
