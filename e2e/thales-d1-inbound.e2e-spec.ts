import { commandTopic, EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { PISMO_EVENTS_TOPIC, Stack } from '@pinflow/platform';
import { issuerEncryptionKeyPair, iso0Block, iso1Block, testEnv, ThalesD1Simulator, TopicRecorder, waitFor } from '@pinflow/testing';
import { SignJWT } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dumpDatabase, http, occurrences, PinflowClient, readLogs, shortPinOccurrences, startSuite, Suite } from './support';

/**
 * Thales D1 calling pinflow as the issuer's card management system: D1 (a simulator with D1's token
 * flow, JWE and headers) pushes a card's PIN, and pinflow changes it at Pismo, which holds the
 * issuer's cards, through intake's outbox, Kafka, worker-pismo and the audit trail.
 */
describe('Thales D1 pushing PINs into pinflow end to end', () => {
  const ISSUER = 'PISMOISS01';
  const D1_CLIENT = { clientId: 'thales-d1', clientSecret: randomUUID() + randomUUID() };
  // Every PIN this suite sends anywhere; none may be found outside memory afterwards.
  const PINS = { pushed: '739146', retried: '582047', audited: '904317', fourDigit: '6093', iso0: '815263', iso0Retried: '294715', iso0OtherCard: '637042', noCorrelation: '370851', counted: '460739', stale: '918264', replayed: '285170' };
  const REJECTED = { weak: '123456', tooLong: '1593574' };
  // D1 builds ISO0 blocks with the card's PAN, which Pismo holds and pinflow never sees.
  const PANS = { card: '4000123412341234', otherCard: '4000123412349997' };

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let d1: ThalesD1Simulator;

  const newCard = () => `card-${randomUUID().slice(0, 8)}`;
  const seccos = (pin: string) => ({ format: '3DES_SECCOS' as const, pinBlock: iso1Block(pin), changeCounter: 0 });
  /** intake's request behind a 204: the status URL it sends in Location. */
  const requestIdOf = (answer: { headers: Headers }) => answer.headers.get('location')?.split('/').pop() ?? '';
  const pismoCard = async (cardId: string) => (await client.sandbox('GET', `/sandbox/cards/${cardId}`)).body;
  const pismoHolds = async (cardId: string, pin: string) => (await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body.matches;

  beforeAll(async () => {
    const keys = await issuerEncryptionKeyPair();
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-d1-inbound-')), 'd1-encryption-key.json');
    writeFileSync(keyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 });
    suite = await startSuite({
      apps: ['sandbox-pismo', 'worker-pismo', 'audit', 'intake'],
      env: {
        // Two quick attempts: Pismo down dead-letters a push within a second, for the replay test.
        'worker-pismo': { PISMO_RETRY_BASE_MS: '50', PISMO_MAX_ATTEMPTS: '2' },
        intake: {
          D1_INBOUND_ISSUERS: JSON.stringify({ [ISSUER]: { vendor: 'pismo' } }),
          D1_INBOUND_CLIENT_ID: D1_CLIENT.clientId,
          D1_INBOUND_CLIENT_SECRET: D1_CLIENT.clientSecret,
          D1_INBOUND_ENCRYPTION_KEY_FILE: keyFile,
        },
      },
      writer: 'issuer-backend',
      topics: [commandTopic('pismo'), EVENTS_TOPIC, PISMO_EVENTS_TOPIC],
    });
    ({ stack, client, recorder } = suite);
    d1 = new ThalesD1Simulator(stack.urls.intake, D1_CLIENT, keys.publicJwk);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('issues D1 an access token for its client credentials', async () => {
    const answer = await d1.signIn();

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'pin_management' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('changes the PIN at Pismo: 204 once accepted, then Pismo holds the new PIN and the change succeeds', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await d1.signIn();

    const correlationId = randomUUID();

    const answer = await d1.setPin(ISSUER, cardId, seccos(PINS.pushed), { correlationId });

    expect(answer.status).toBe(204);
    expect(answer.body).toBeUndefined();
    const outcome = await client.outcome(requestIdOf(answer));
    expect(outcome).toMatchObject({ status: 'succeeded', vendor: 'pismo', operation: 'change_pin', cardId });
    expect(await pismoHolds(cardId, PINS.pushed)).toBe(true);
    // D1 troubleshoots by its correlation id: intake's log ties it to the request.
    const logged = readFileSync(stack.services.intake.logFile, 'utf8').split('\n').find((line) => line.includes(correlationId));
    expect(logged).toContain(requestIdOf(answer));
  });

  it('records the change in the audit trail under D1 as the caller, the chip’s offline PIN following', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await d1.signIn();
    const answer = await d1.setPin(ISSUER, cardId, seccos(PINS.audited), { correlationId: randomUUID() });

    const history = await waitFor('the audited outcome', async () => {
      const { body } = await client.auditRequest(requestIdOf(answer));
      return body.status === 'succeeded' ? body : undefined;
    });

    const types = history.events.map((event: { type: string }) => event.type);
    expect(types).toEqual(expect.arrayContaining([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]));
    const accepted = history.events.find((event: { type: string }) => event.type === EVENT_TYPES.accepted);
    expect(accepted.data).toMatchObject({ vendor: 'pismo', operation: 'change_pin', caller: 'thales-d1:thales-d1' });
    expect(history.events.find((event: { type: string }) => event.type === EVENT_TYPES.passwordChanged).data).toMatchObject({ syncOfflinePin: true });
  });

  it('applies a retry with the same x-correlation-id once, even with the block encrypted afresh', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await d1.signIn();
    const correlationId = randomUUID();
    const block = seccos(PINS.retried);

    const first = await d1.setPin(ISSUER, cardId, block, { correlationId });
    const retry = await d1.setPin(ISSUER, cardId, block, { correlationId });

    expect([first.status, retry.status]).toEqual([204, 204]);
    expect(requestIdOf(retry)).toBe(requestIdOf(first));
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await client.outcome(requestIdOf(first))).status).toBe('succeeded');
    expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 1 });
  });

  it('treats pushes without x-correlation-id as separate changes: there is nothing to recognise a retry by', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await d1.signIn();

    const first = await d1.changePinSeccos(ISSUER, cardId, PINS.noCorrelation);
    // The next push waits for the change counter the first one's outcome moves on.
    await client.outcome(requestIdOf(first));
    const second = await d1.changePinSeccos(ISSUER, cardId, PINS.noCorrelation);

    expect([first.status, second.status]).toEqual([204, 204]);
    expect(requestIdOf(second)).not.toBe(requestIdOf(first));
  });

  it('accepts a four-digit PIN, the shortest Pismo takes', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await d1.signIn();

    const answer = await d1.setPin(ISSUER, cardId, seccos(PINS.fourDigit), { correlationId: randomUUID() });

    expect(answer.status).toBe(204);
    expect((await client.outcome(requestIdOf(answer))).status).toBe('succeeded');
    expect(await pismoHolds(cardId, PINS.fourDigit)).toBe(true);
  });

  it('describes D1’s endpoints in intake’s OpenAPI document', async () => {
    const document = (await fetch(`${stack.urls.intake}/openapi.json`).then((response) => response.json())) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/authz/d1/v1/oauth2/token', '/cms/api/v1/issuers/{issuerId}/cards/{cardId}/pin']));
  });

  describe('ISO0 blocks, translated for Pismo', () => {
    it('changes the PIN at Pismo from the block: a PIN block change (update_pin_block) that ends in password.changed, the change counter left alone', async () => {
      const cardId = newCard();
      await client.seedCard(cardId, { pan: PANS.card });
      await d1.signIn();

      const answer = await d1.changePinIso0(ISSUER, cardId, PINS.iso0, PANS.card, { correlationId: randomUUID() });

      expect(answer.status).toBe(204);
      const outcome = await client.outcome(requestIdOf(answer));
      expect(outcome).toMatchObject({ status: 'succeeded', vendor: 'pismo', operation: 'update_pin_block', cardId });
      expect(outcome.events.map((event: { type: string }) => event.type)).toContain(EVENT_TYPES.passwordChanged);
      expect(await pismoHolds(cardId, PINS.iso0)).toBe(true);
      expect((await d1.readChangeCounter(ISSUER, cardId)).body).toEqual({ changeCounter: 0 });
    });

    it('applies a retry with the same x-correlation-id once, and needs no counter between pushes', async () => {
      const cardId = newCard();
      await client.seedCard(cardId, { pan: PANS.card });
      await d1.signIn();
      const correlationId = randomUUID();

      const first = await d1.changePinIso0(ISSUER, cardId, PINS.iso0Retried, PANS.card, { correlationId });
      const retry = await d1.changePinIso0(ISSUER, cardId, PINS.iso0Retried, PANS.card, { correlationId });
      const next = await d1.changePinIso0(ISSUER, cardId, PINS.iso0, PANS.card, { correlationId: randomUUID() });

      expect([first.status, retry.status, next.status]).toEqual([204, 204, 204]);
      expect(requestIdOf(retry)).toBe(requestIdOf(first));
      expect((await client.outcome(requestIdOf(first))).status).toBe('succeeded');
      expect((await client.outcome(requestIdOf(next))).status).toBe('succeeded');
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 2 });
    });

    it('fails a block Pismo cannot read with the card’s PAN (made for another card): VENDOR_REJECTED, and the card keeps its PIN', async () => {
      const cardId = newCard();
      await client.seedCard(cardId, { pan: PANS.card });
      await d1.signIn();

      const answer = await d1.changePinIso0(ISSUER, cardId, PINS.iso0OtherCard, PANS.otherCard, { correlationId: randomUUID() });

      expect(answer.status).toBe(204);
      const outcome = await client.outcome(requestIdOf(answer));
      expect(outcome.status).toBe('failed');
      expect(outcome.events.find((event: { type: string }) => event.type === EVENT_TYPES.failed).data).toMatchObject({ operation: 'update_pin_block', reason: 'VENDOR_REJECTED' });
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 0, pinBlockRefusals: [{ problem: 'PAN_MISMATCH' }] });
    });
  });

  describe('the Seccos PIN change counter', () => {
    const counterOf = async (cardId: string) => (await d1.readChangeCounter(ISSUER, cardId)).body;

    it('starts at 0 and moves on by one with each change Pismo completed, not at acceptance', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();
      expect(await counterOf(cardId)).toEqual({ changeCounter: 0 });

      const answer = await d1.changePinSeccos(ISSUER, cardId, PINS.counted, { correlationId: randomUUID() });

      expect(answer.status).toBe(204);
      expect(await counterOf(cardId)).toEqual({ changeCounter: 0 });
      expect((await client.outcome(requestIdOf(answer))).status).toBe('succeeded');
      await waitFor('the counter to follow the completed change', async () => (await counterOf(cardId)).changeCounter === 1);
    });

    it('leaves the counter where it was when Pismo fails the change, so D1 pushes again with the same one', async () => {
      // A card Pismo does not have: the push is accepted, and the change fails with CARD_NOT_FOUND.
      const cardId = newCard();
      await d1.signIn();

      const failing = await d1.setPin(ISSUER, cardId, seccos(PINS.counted), { correlationId: randomUUID() });

      expect(failing.status).toBe(204);
      expect(await client.outcome(requestIdOf(failing))).toMatchObject({ status: 'failed', events: expect.arrayContaining([expect.objectContaining({ data: expect.objectContaining({ reason: 'CARD_NOT_FOUND' }) })]) });
      await client.seedCard(cardId);
      const again = await waitFor('the card to be freed by the failure', async () => {
        const answer = await d1.setPin(ISSUER, cardId, seccos(PINS.counted), { correlationId: randomUUID() });
        return answer.status === 204 ? answer : undefined;
      });
      expect(await counterOf(cardId)).toEqual({ changeCounter: 0 });
      expect((await client.outcome(requestIdOf(again))).status).toBe('succeeded');
      await waitFor('the counter to follow the completed change', async () => (await counterOf(cardId)).changeCounter === 1);
    });

    it('moves the counter on once when a push that failed is replayed from the dead letters and then succeeds', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();
      await client.sandbox('PUT', '/sandbox/knobs', { down: true });
      const failing = await d1.setPin(ISSUER, cardId, seccos(PINS.replayed), { correlationId: randomUUID() });
      expect(failing.status).toBe(204);
      expect((await client.outcome(requestIdOf(failing))).status).toBe('failed');
      await client.sandbox('PUT', '/sandbox/knobs', { down: false });
      expect(await counterOf(cardId)).toEqual({ changeCounter: 0 });

      // An operator replays the push's dead letter at audit, as `npm run ops -- dlq replay` does: intake is not asked.
      const audit = (method: string, route: string, body?: object) => http(method, `${stack.urls.audit}/v1/operator/dead-letters${route}`, { token: suite.readToken, body });
      const letter = await waitFor('the push’s dead letter', async () => (await audit('GET', '')).body.letters?.find((candidate: { key: string }) => candidate.key === cardId));
      expect((await audit('POST', '/replay', { partition: letter.partition, offset: letter.offset })).status).toBe(200);

      await waitFor('the replayed push to succeed', async () => (await client.auditRequest(requestIdOf(failing))).body.status === 'succeeded');
      expect(await pismoHolds(cardId, PINS.replayed)).toBe(true);
      await waitFor('the counter to follow the replayed change', async () => (await counterOf(cardId)).changeCounter === 1);
      // The card is free for D1's next push, with the counter it now reads.
      const next = await d1.changePinSeccos(ISSUER, cardId, PINS.counted, { correlationId: randomUUID() });
      expect(next.status).toBe(204);
      expect((await client.outcome(requestIdOf(next))).status).toBe('succeeded');
      await waitFor('the counter to follow the next change', async () => (await counterOf(cardId)).changeCounter === 2);
    });

    it('refuses a push with 409 PIN_CHANGE_IN_PROGRESS while the card’s previous one has no outcome, and changes nothing', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();

      // Pismo answering slowly keeps the first push in flight while the second arrives, however fast the
      // rest of the way is: without it, a first outcome quicker than D1's second call made this a stale push.
      await client.sandbox('PUT', '/sandbox/knobs', { latencyMs: 1_500 });
      let first, meanwhile;
      try {
        first = await d1.setPin(ISSUER, cardId, seccos(PINS.counted), { correlationId: randomUUID() });
        meanwhile = await d1.setPin(ISSUER, cardId, seccos(PINS.stale), { correlationId: randomUUID() });
      } finally {
        await client.sandbox('PUT', '/sandbox/knobs', { latencyMs: 0 });
      }

      expect(first.status).toBe(204);
      expect(meanwhile).toMatchObject({ status: 409, body: { errorCode: 'PIN_CHANGE_IN_PROGRESS', errorMessage: expect.any(String) } });
      expect((await client.outcome(requestIdOf(first))).status).toBe('succeeded');
      expect(await pismoHolds(cardId, PINS.counted)).toBe(true);
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 1 });
    });

    it('refuses a block computed with a stale counter, a replay among them, with 409 STALE_CHANGE_COUNTER, and changes nothing', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();
      const block = seccos(PINS.stale);
      const accepted = await d1.setPin(ISSUER, cardId, block, { correlationId: randomUUID() });
      expect(accepted.status).toBe(204);
      await client.outcome(requestIdOf(accepted));
      await waitFor('the counter to follow the completed change', async () => (await counterOf(cardId)).changeCounter === 1);

      const replayed = await d1.setPin(ISSUER, cardId, block, { correlationId: randomUUID() });
      const ahead = await d1.setPin(ISSUER, cardId, { ...block, changeCounter: 5 }, { correlationId: randomUUID() });

      for (const answer of [replayed, ahead]) expect(answer).toMatchObject({ status: 409, body: { errorCode: 'STALE_CHANGE_COUNTER', errorMessage: expect.any(String) } });
      expect(await counterOf(cardId)).toEqual({ changeCounter: 1 });
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 1 });
    });

    it('answers a retry with the same x-correlation-id again, though its counter has moved on since', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();
      const correlationId = randomUUID();
      const first = await d1.changePinSeccos(ISSUER, cardId, PINS.counted, { correlationId });
      await client.outcome(requestIdOf(first));
      await waitFor('the counter to follow the completed change', async () => (await counterOf(cardId)).changeCounter === 1);

      const retry = await d1.setPin(ISSUER, cardId, seccos(PINS.counted), { correlationId });

      expect([first.status, retry.status]).toEqual([204, 204]);
      expect(requestIdOf(retry)).toBe(requestIdOf(first));
      expect(await counterOf(cardId)).toEqual({ changeCounter: 1 });
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 1 });
    });

    it('frees the card when intake refuses the push, so D1 can push again with the same counter', async () => {
      const cardId = newCard();
      await client.seedCard(cardId);
      await d1.signIn();

      expect(await d1.setPin(ISSUER, cardId, seccos(REJECTED.weak), { correlationId: randomUUID() })).toMatchObject({ status: 400, body: { errorCode: 'PIN_REJECTED' } });

      expect(await counterOf(cardId)).toEqual({ changeCounter: 0 });
      expect((await d1.setPin(ISSUER, cardId, seccos(PINS.counted), { correlationId: randomUUID() })).status).toBe(204);
    });

    it('keeps one counter per card: a push to one card leaves another’s alone', async () => {
      const [pushed, other] = [newCard(), newCard()];
      await client.seedCard(pushed);
      await d1.signIn();

      expect((await d1.changePinSeccos(ISSUER, pushed, PINS.counted, { correlationId: randomUUID() })).status).toBe(204);

      expect(await counterOf(other)).toEqual({ changeCounter: 0 });
    });
  });

  it('holds D1 to the per-caller rate limit, answering 429 in D1’s error model with Retry-After', async () => {
    await d1.signIn();
    // Over AUTH_RATE_LIMIT (100 a second by default) at once; the window is a second, so the suite's
    // later calls get a fresh budget.
    const answers = await Promise.all(Array.from({ length: 250 }, () => d1.readChangeCounter(ISSUER, 'card-rate-limited')));
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.every((answer) => answer.status === 200 || answer.status === 429)).toBe(true);
    expect(limited[0].body).toEqual({ errorCode: 'RATE_LIMITED', errorMessage: expect.any(String) });
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThan(0);
  });

  describe('refusals, in D1’s error model', () => {
    const cardId = 'card-refused';

    beforeAll(async () => {
      await client.seedCard(cardId);
      await d1.signIn();
    });

    afterAll(async () => {
      // Nothing refused reached Pismo, nor used up the card's change counter.
      expect(await pismoCard(cardId)).toMatchObject({ pinChanges: 0 });
      expect((await d1.readChangeCounter(ISSUER, cardId)).body).toEqual({ changeCounter: 0 });
    });

    it('refuses a token for wrong credentials or another grant, as OAuth2 does', async () => {
      expect(await d1.signIn({ ...D1_CLIENT, clientSecret: 'not-the-secret' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(await d1.signIn(D1_CLIENT, 'grant_type=password')).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
      expect(await d1.signIn(D1_CLIENT, '')).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    });

    it('refuses a call without a valid token with 401 UNAUTHORIZED', async () => {
      // D1's claims, signed with a key that is not the one D1's secret keys.
      const forged = await new SignJWT({ scope: 'pin_management' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer('pinflow-intake').setAudience('pinflow-d1-pin-management').setSubject(D1_CLIENT.clientId).setExpirationTime('5m').sign(randomBytes(32));
      const genuine: string = (await d1.signIn()).body.access_token;
      for (const token of ['', 'not-a-token', forged, genuine.slice(0, -2) + (genuine.endsWith('AA') ? 'BA' : 'AA')]) {
        const answer = await d1.setPin(ISSUER, cardId, seccos(PINS.pushed), { token });
        expect(answer).toMatchObject({ status: 401, body: { errorCode: 'UNAUTHORIZED', errorMessage: expect.any(String) } });
      }
      // pinflow's own callers' tokens are not D1's.
      expect(await d1.setPin(ISSUER, cardId, seccos(PINS.pushed), { token: suite.writeToken })).toMatchObject({ status: 401, body: { errorCode: 'UNAUTHORIZED' } });
    });

    it('refuses an encrypted PIN block that is not a JWE to the issuer’s key, untampered, with 400 INVALID_ENCRYPTED_PIN_BLOCK', async () => {
      const block = JSON.stringify(seccos(PINS.pushed));
      const jwe = await d1.encrypt(block);
      const [header, key, iv, ciphertext, tag] = jwe.split('.');
      const tampered = [header, key, iv, ciphertext.slice(0, -2) + (ciphertext.endsWith('AA') ? 'BA' : 'AA'), tag].join('.');
      for (const encryptedPinBlock of ['not-a-jwe', tampered, await d1.encrypt(block, { kid: 'another-key' }), await d1.encrypt(block, { enc: 'A128GCM' })]) {
        const answer = await d1.setPinBody(ISSUER, cardId, { type: '3DES_SECCOS', encryptedPinBlock }, { correlationId: randomUUID() });
        expect(answer).toMatchObject({ status: 400, body: { errorCode: 'INVALID_ENCRYPTED_PIN_BLOCK' } });
      }
    });

    it('refuses a PIN block that is not of its type’s schema with 400 INVALID_PIN_BLOCK', async () => {
      const notOfType = await d1.encrypt(JSON.stringify({ format: 'ISO0', pinBlock: iso1Block(PINS.pushed) }));
      const answer = await d1.setPinBody(ISSUER, cardId, { type: '3DES_SECCOS', encryptedPinBlock: notOfType });
      expect(answer).toMatchObject({ status: 400, body: { errorCode: 'INVALID_PIN_BLOCK' } });
      expect(await d1.setPinBody(ISSUER, cardId, { type: '3DES_SECCOS', encryptedPinBlock: await d1.encrypt('"a string"') })).toMatchObject({ status: 400, body: { errorCode: 'INVALID_PIN_BLOCK' } });
    });

    it('refuses a weak or over-long PIN with 400 PIN_REJECTED, without saying which rule it broke', async () => {
      for (const pin of Object.values(REJECTED)) {
        const answer = await d1.setPin(ISSUER, cardId, seccos(pin), { correlationId: randomUUID() });
        expect(answer).toMatchObject({ status: 400, body: { errorCode: 'PIN_REJECTED', errorMessage: expect.any(String) } });
        expect(JSON.stringify(answer.body)).not.toContain(pin);
      }
    });

    it('refuses an ISO0 block whose PIN is longer than Pismo takes with 400 PIN_REJECTED, and one that is not format 0 with 400 INVALID_PIN_BLOCK: what the block shows without the PAN', async () => {
      const tooLong = await d1.changePinIso0(ISSUER, cardId, REJECTED.tooLong, PANS.card, { correlationId: randomUUID() });
      expect(tooLong).toMatchObject({ status: 400, body: { errorCode: 'PIN_REJECTED', errorMessage: expect.stringContaining('4 to 6 digits') } });
      expect(await d1.setPin(ISSUER, cardId, { format: 'ISO0', pinBlock: iso1Block(PINS.iso0) })).toMatchObject({ status: 400, body: { errorCode: 'INVALID_PIN_BLOCK' } });
    });

    it('refuses malformed paths and bodies, and issuers pinflow does not serve', async () => {
      const block = seccos(PINS.pushed);
      expect(await d1.setPin('SHORT', cardId, block)).toMatchObject({ status: 400, body: { errorCode: 'INVALID_ISSUER_ID' } });
      expect(await d1.setPin(ISSUER, 'card.with.dots', block)).toMatchObject({ status: 400, body: { errorCode: 'INVALID_CARD_ID' } });
      expect(await d1.setPin('OTHERISS01', cardId, block)).toMatchObject({ status: 404, body: { errorCode: 'ISSUER_NOT_FOUND' } });
      const encryptedPinBlock = await d1.encrypt(JSON.stringify(block));
      for (const body of [{ type: 'ISO1', encryptedPinBlock }, { type: '3DES_SECCOS' }, { type: '3DES_SECCOS', encryptedPinBlock, pin: PINS.pushed }, { type: '3DES_SECCOS', encryptedPinBlock: 'x'.repeat(8193) }]) {
        expect(await d1.setPinBody(ISSUER, cardId, body)).toMatchObject({ status: 400, body: { errorCode: 'INVALID_BODY' } });
      }
      expect(await d1.setPin(ISSUER, cardId, block, { correlationId: 'has spaces' })).toMatchObject({ status: 400, body: { errorCode: 'INVALID_CORRELATION_ID' } });
    });

    it('answers a PIN read with 404 PIN_NOT_AVAILABLE: pinflow never stores PINs', async () => {
      expect(await d1.readPin(ISSUER, cardId, { correlationId: randomUUID() })).toMatchObject({ status: 404, body: { errorCode: 'PIN_NOT_AVAILABLE' } });
      expect(await d1.readPin(ISSUER, cardId, { token: 'nope' })).toMatchObject({ status: 401, body: { errorCode: 'UNAUTHORIZED' } });
      expect(await d1.readChangeCounter(ISSUER, cardId, { token: 'nope' })).toMatchObject({ status: 401, body: { errorCode: 'UNAUTHORIZED' } });
      expect(await d1.readChangeCounter('OTHERISS01', cardId)).toMatchObject({ status: 404, body: { errorCode: 'ISSUER_NOT_FOUND' } });
    });
  });

  it('leaves no PIN, ISO0 block or PAN it was given in any topic, service log or database row', async () => {
    const iso0Blocks = [iso0Block(PINS.iso0, PANS.card), iso0Block(PINS.iso0Retried, PANS.card), iso0Block(PINS.iso0OtherCard, PANS.otherCard), iso0Block(REJECTED.tooLong, PANS.card)];
    const longPins = [...Object.values(PINS), ...Object.values(REJECTED)].filter((pin) => pin.length > 4).concat(iso0Blocks, Object.values(PANS));
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const kafkaText = recorder.messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(kafkaText).toContain('thales-d1:thales-d1');
    const logs = readLogs(stack);
    expect(logs).toContain('/cms/api/v1/issuers/');
    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('thales-d1:thales-d1');
    for (const haystack of [kafkaText, logs, rows]) {
      expect(occurrences(haystack, longPins)).toEqual([]);
      expect(shortPinOccurrences(haystack, [PINS.fourDigit])).toEqual([]);
    }
  });
});
