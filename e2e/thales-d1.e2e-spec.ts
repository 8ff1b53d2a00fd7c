import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { encodeIso0 } from '@pinflow/pin-block';
import { encryptSecret } from '@pinflow/pin-crypto';
import { Stack, THALES_D1_ISSUER_ID } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { dumpDatabase, HttpResult, occurrences, PinflowClient, readLogs, sandboxOf, shortPinOccurrences, startSuite, Suite } from './support';

type PinBlockFormat = 'ISO0' | '3DES_SECCOS';

/**
 * The Thales D1 path as a card issuer uses it: the issuer's backend sends the new PIN and the card's
 * PAN, encrypted to pinflow's key, to intake; Kafka, the worker (playing D1), the card management
 * system's sandbox over HTTP and the audit trail follow, each service its own process.
 */
describe('Thales D1 PIN changes end to end', () => {
  const COMMAND_TOPIC = commandTopic('thales-d1');
  // Every PIN and PAN this suite sends anywhere; none may be found outside memory afterwards.
  const PINS = { iso0: '739146', seccos: '582047', wrongPan: '904317', unknownCard: '630958', repeated: '815263', audited: '370851', fourDigit: '6093' };
  const PANS = { card: '4761739001010119', other: '5413330089020011', wrong: '4761739001010010' };
  const REJECTED = { weakPin: '7777', shortPan: '12345' };

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let sandbox: SandboxClient;
  let recorder: TopicRecorder;
  // The clear ISO0 blocks the CMS received: each gives its PIN away to anyone holding the PAN.
  const iso0Blocks: string[] = [];

  const newCard = () => `card-${randomUUID().slice(0, 8)}`;

  async function seedCard(cardId: string, card: Record<string, unknown> = {}): Promise<void> {
    const seeded = await sandbox.call('PUT', `/sandbox/cards/${cardId}`, { body: { pan: PANS.card, ...card } });
    if (seeded.status !== 200) throw new Error(`seeding ${cardId} failed: ${seeded.status}`);
  }

  const cmsCard = async (cardId: string) => (await sandbox.call('GET', `/sandbox/cards/${cardId}`)).body;
  const cmsHolds = async (cardId: string, pin: string) => (await sandbox.call('POST', `/sandbox/cards/${cardId}/verify-pin`, { body: { pin } })).body.matches;

  /** What the issuer's backend sends: PIN and PAN encrypted to the key intake publishes. */
  async function sealed(pinBlockFormat: PinBlockFormat, pin: string, pan = PANS.card) {
    if (pinBlockFormat === 'ISO0') iso0Blocks.push(encodeIso0(pin, pan));
    const key = stack.secrets.pinKeyRing.currentPublicJwk;
    return { pinBlockFormat, encryptedPin: await encryptSecret('pin', pin, key), encryptedPan: await encryptSecret('pan', pan, key) };
  }

  const changePin = (cardId: string, body: unknown, options: { issuerId?: string; idempotencyKey?: string } = {}): Promise<HttpResult> =>
    client.submit(`/v1/thales-d1/issuers/${options.issuerId ?? THALES_D1_ISSUER_ID}/cards/${cardId}/pin`, body, options);

  const failureOf = (outcome: { events: { type: string; data: unknown }[] }) => outcome.events.find((event) => event.type === EVENT_TYPES.failed)?.data;

  /** The request's audit trail once audit has seen its outcome. */
  const auditTrail = (requestId: string, status: string) =>
    waitFor(`the audit trail of ${requestId}`, async () => {
      const result = await client.auditRequest(requestId);
      return result.body.status === status ? result.body : undefined;
    });

  beforeAll(async () => {
    suite = await startSuite({
      apps: ['sandbox-thales-d1', 'worker-thales-d1', 'audit', 'intake'],
      env: { 'worker-thales-d1': { THALES_D1_RETRY_BASE_MS: '50' } },
      writer: 'issuer-backend',
      topics: [COMMAND_TOPIC, EVENTS_TOPIC],
    });
    ({ stack, client, recorder } = suite);
    sandbox = await sandboxOf(stack, 'sandbox-thales-d1');
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('changes a PIN with an ISO0 block: 202 with a status URL, then succeeded, and the CMS holds the new PIN', async () => {
    const cardId = newCard();
    await seedCard(cardId);

    const accepted = await changePin(cardId, await sealed('ISO0', PINS.iso0));

    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ requestId: expect.any(String), status: 'accepted', statusUrl: `${stack.urls.intake}/v1/requests/${accepted.body.requestId}` });
    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]));
    expect(await cmsHolds(cardId, PINS.iso0)).toBe(true);
    expect(await cmsCard(cardId)).toMatchObject({ pinType: 'ISO0', pinChanges: 1 });
  });

  it('changes a PIN with a Seccos block computed with the card’s change counter, which moves on', async () => {
    const cardId = newCard();
    await seedCard(cardId, { changeCounter: 41 });

    const accepted = await changePin(cardId, await sealed('3DES_SECCOS', PINS.seccos));

    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');
    expect(await cmsHolds(cardId, PINS.seccos)).toBe(true);
    expect(await cmsCard(cardId)).toMatchObject({ pinType: '3DES_SECCOS', changeCounter: 42 });
  });

  it('accepts a four-digit PIN, the shortest an ISO 9564 block carries', async () => {
    const cardId = newCard();
    await seedCard(cardId);

    const accepted = await changePin(cardId, await sealed('ISO0', PINS.fourDigit));

    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');
    expect(await cmsHolds(cardId, PINS.fourDigit)).toBe(true);
  });

  it('records the request in the audit trail, accepted then changed', async () => {
    const cardId = newCard();
    await seedCard(cardId);
    const accepted = await changePin(cardId, await sealed('3DES_SECCOS', PINS.audited));

    const history = await auditTrail(accepted.body.requestId, 'succeeded');

    expect(history.events.map((event: { type: string }) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
  });

  it('fails a change whose PAN is not the card’s with the CMS’s code: the ISO0 block does not decode under the card’s PAN', async () => {
    const cardId = newCard();
    await seedCard(cardId);

    const accepted = await changePin(cardId, await sealed('ISO0', PINS.wrongPan, PANS.wrong));

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(failureOf(outcome)).toMatchObject({ vendor: 'thales-d1', reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { code: 'INVALID_PIN_BLOCK' } });
    expect(await cmsCard(cardId)).toMatchObject({ pinType: null, pinChanges: 0 });
    const audited = await auditTrail(accepted.body.requestId, 'failed');
    expect(failureOf(audited)).toMatchObject({ vendorError: { code: 'INVALID_PIN_BLOCK' } });
  });

  it('fails a change for a card the CMS does not know with CARD_NOT_FOUND', async () => {
    const accepted = await changePin(newCard(), await sealed('ISO0', PINS.unknownCard, PANS.other));

    const outcome = await client.outcome(accepted.body.requestId);
    expect(outcome.status).toBe('failed');
    expect(failureOf(outcome)).toMatchObject({ reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'CARD_NOT_FOUND' } });
  });

  it('answers a repeated Idempotency-Key with the first answer and changes the PIN once', async () => {
    const cardId = newCard();
    await seedCard(cardId);
    const key = randomUUID();
    const body = await sealed('ISO0', PINS.repeated);

    const first = await changePin(cardId, body, { idempotencyKey: key });
    const second = await changePin(cardId, body, { idempotencyKey: key });

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await client.outcome(first.body.requestId)).status).toBe('succeeded');
    expect(recorder.json<{ cardId: string }>(COMMAND_TOPIC).filter((command) => command.cardId === cardId)).toHaveLength(1);
    expect(await cmsCard(cardId)).toMatchObject({ pinChanges: 1 });
  });

  it.each([
    ['an issuer id of 9 characters', { issuerId: 'ISSUER001' }, 400, 'VALIDATION_FAILED'],
    ['a card id with a dot', { cardId: (cardId: string) => `${cardId}.1` }, 400, 'VALIDATION_FAILED'],
    ['a weak PIN', { pin: REJECTED.weakPin }, 422, 'PIN_REJECTED'],
    ['a PAN of 5 digits', { pan: REJECTED.shortPan }, 400, 'PAN_UNDECRYPTABLE'],
    ['an unknown PIN block type', { pinBlockFormat: 'ISO1' }, 400, 'VALIDATION_FAILED'],
  ])(
    'refuses %s with a problem body and publishes nothing',
    async (_case, input: { issuerId?: string; cardId?: (cardId: string) => string; pin?: string; pan?: string; pinBlockFormat?: string }, status, code) => {
      const seeded = newCard();
      await seedCard(seeded);
      const cardId = input.cardId?.(seeded) ?? seeded;
      const key = stack.secrets.pinKeyRing.currentPublicJwk;
      const body = {
        pinBlockFormat: input.pinBlockFormat ?? 'ISO0',
        encryptedPin: await encryptSecret('pin', input.pin ?? PINS.iso0, key),
        // encryptSecret refuses a PAN that is not one; a careless client's JWE is built by hand.
        encryptedPan: input.pan ? await client.encryptPayload({ pan: input.pan }) : await encryptSecret('pan', PANS.card, key),
      };

      const response = await changePin(cardId, body, { issuerId: input.issuerId });

      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status, code });
      // Give a wrongly published command time to show up before concluding there is none.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(recorder.messages.filter((message) => message.key === cardId || message.value.includes(seeded))).toEqual([]);
      expect(await cmsCard(seeded)).toMatchObject({ pinChanges: 0 });
    },
  );

  it('leaves no PIN, PAN or PIN block it was given in any topic, service log or database row', async () => {
    // PINs can be as short as four digits, so ids and JWEs are set aside before looking for them;
    // PANs are as long as such ids and are looked for everywhere.
    const secretsIn = (text: string) => [
      ...shortPinOccurrences(text, [...Object.values(PINS), REJECTED.weakPin]),
      ...occurrences(text, [...Object.values(PANS), REJECTED.shortPan]),
      ...iso0Blocks.filter((block) => text.toUpperCase().includes(block)),
    ];
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(recorder.json(COMMAND_TOPIC).length).toBeGreaterThanOrEqual(7);
    expect(secretsIn(kafkaText)).toEqual([]);
    const logs = readLogs(stack);
    expect(logs).toContain('worker-thales-d1');
    expect(secretsIn(logs)).toEqual([]);
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('vendor_commands');
    expect(secretsIn(rows)).toEqual([]);
  });
});
