import { encodeIso0, encodeIso1 } from '@pinflow/pin-block';
import { leakedDigits, SandboxAnswer, SandboxClient } from '@pinflow/sandbox-kit';
import { RunningApp, startAppProcess, waitFor } from '@pinflow/testing';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const CLIENT = { clientId: 'pinflow-it', clientSecret: 'it-secret' };
const TOKEN_PATH = '/authz/d1/v1/oauth2/token';
const ISSUER = 'ISSUERIT01';
// Every PIN and PAN this suite sends; none may appear in the sandbox's log or answers.
const PINS = {
  iso0: '582913',
  seccos: '604729',
  seccosStale: '917354',
  readBack: '463082',
  readBackSeccos: '371596',
  replaced: '295847',
  invalid: '720418',
  drilled: '648203',
  inBrokenJson: '830615',
};
const PANS = {
  card: '4761739001010119',
  other: '5413330089020011',
  wrong: '4761739001010010',
};

/**
 * The CMS sandbox as its own process, over real HTTP: the PIN Management endpoints D1 calls, with
 * PIN blocks encrypted the way D1 encrypts them, and the drills and hooks tests rely on.
 */
describe('the Thales D1 CMS sandbox', () => {
  let service: RunningApp;
  let sandbox: SandboxClient;
  let cmsKey: JWK;
  let callerPrivateKey: CryptoKey;
  // The clear PIN blocks inside the JWEs the suite sent.
  const sentBlocks: string[] = [];

  const call: SandboxClient['call'] = (...args) => sandbox.call(...args);
  const setKnobs: SandboxClient['setKnobs'] = (knobs) => sandbox.setKnobs(knobs);
  const newToken = () => sandbox.fetchToken(TOKEN_PATH, CLIENT);
  /** As D1 asks for a token: HTTP Basic client credentials. */
  const requestToken = (clientSecret = CLIENT.clientSecret) =>
    fetch(`${sandbox.baseUrl}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });

  /** D1's side: the JSON PIN block, encrypted to the CMS's key as D1 encrypts sensitive data. */
  async function encryptPinBlock(pinBlock: { format: string; pinBlock: string; changeCounter?: number }, header: { kid?: string } = { kid: cmsKey.kid }): Promise<string> {
    sentBlocks.push(pinBlock.pinBlock);
    const { kty, crv, x, y } = cmsKey;
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(pinBlock))).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', ...header }).encrypt({ kty, crv, x, y });
  }
  const iso0 = (pin: string, pan = PANS.card) => encryptPinBlock({ format: 'ISO0', pinBlock: encodeIso0(pin, pan) });
  const seccos = (pin: string, changeCounter: number) => encryptPinBlock({ format: '3DES_SECCOS', pinBlock: encodeIso1(pin), changeCounter });

  const pinPath = (cardId: string, issuerId = ISSUER) => `/cms/api/v1/issuers/${issuerId}/cards/${cardId}/pin`;
  const setPin = (cardId: string, body: unknown, options: { issuerId?: string; correlationId?: string } = {}) =>
    call('PUT', pinPath(cardId, options.issuerId), { body, headers: options.correlationId ? { 'x-correlation-id': options.correlationId } : {} });
  const changeCounter = async (cardId: string) => (await call('GET', `${pinPath(cardId)}/changeCounter`)).body.changeCounter;

  async function seed(card: Record<string, unknown> = {}): Promise<string> {
    const cardId = `it-${randomUUID().slice(0, 8)}`;
    const seeded = await call('PUT', `/sandbox/cards/${cardId}`, { body: { pan: PANS.card, ...card } });
    expect(seeded.status).toBe(200);
    return cardId;
  }
  const cardState = async (cardId: string) => (await call('GET', `/sandbox/cards/${cardId}`)).body;
  const verifies = async (cardId: string, pin: string) => (await call('POST', `/sandbox/cards/${cardId}/verify-pin`, { body: { pin } })).body.matches;

  /** What D1 does with the answer of GET .../pin: decrypt it with its own key. */
  async function decryptAnswer(encryptedPinBlock: string): Promise<any> {
    return JSON.parse(new TextDecoder().decode((await compactDecrypt(encryptedPinBlock, callerPrivateKey)).plaintext));
  }

  /** The answer names none of the suite's PINs and PANs, nor the blocks or JWEs given. */
  function expectNoSecretIn(answer: SandboxAnswer, ...alsoSent: string[]): void {
    for (const secret of [...Object.values(PINS), ...Object.values(PANS), ...alsoSent]) expect(answer.text).not.toContain(secret);
  }

  beforeAll(async () => {
    service = await startAppProcess('sandbox-thales-d1', {
      SANDBOX_CLIENT_ID: CLIENT.clientId,
      SANDBOX_CLIENT_SECRET: CLIENT.clientSecret,
      D1_ISSUER_ID: ISSUER,
    });
    sandbox = await SandboxClient.signedIn(service.baseUrl, TOKEN_PATH, CLIENT);
    cmsKey = (await call('GET', '/sandbox/encryption-key')).body;
    const caller = await generateKeyPair('ECDH-ES', { crv: 'P-256' });
    callerPrivateKey = caller.privateKey;
    const registered = await call('PUT', '/sandbox/caller-key', { body: { jwk: { ...(await exportJWK(caller.publicKey)), kid: 'd1-it' } } });
    expect(registered.status).toBe(200);
  }, 90_000);

  afterAll(() => service?.stop(), 60_000);

  describe('tokens', () => {
    it('issues bearer tokens for client credentials sent with HTTP Basic', async () => {
      const response = await requestToken();

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'pin_management' });
    });

    it('refuses wrong client credentials with invalid_client', async () => {
      const response = await requestToken('guess');
      expect([response.status, await response.json()]).toEqual([401, { error: 'invalid_client' }]);
    });

    it('answers 401 to every PIN Management call without a token, with an unknown one or an expired one', async () => {
      const cardId = await seed();
      const unauthorized = [401, { errorCode: 'UNAUTHORIZED', errorMessage: expect.any(String) }];
      await setKnobs({ tokenTtlSeconds: 1 });
      const shortLived = await newToken();
      await setKnobs({ tokenTtlSeconds: 300 });
      await new Promise((resolve) => setTimeout(resolve, 1100));

      for (const bearer of [null, 'made-up', shortLived]) {
        const put = await call('PUT', pinPath(cardId), { token: bearer, body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.iso0) } });
        const counter = await call('GET', `${pinPath(cardId)}/changeCounter`, { token: bearer });
        const pin = await call('GET', pinPath(cardId), { token: bearer });
        expect([put, counter, pin].map((answer) => [answer.status, answer.body])).toEqual([unauthorized, unauthorized, unauthorized]);
      }
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0, changeCounter: 0 });
    });
  });

  describe('set card PIN', () => {
    it('ISO0: answers 204, keeps the PIN of the format 0 block and counts the change', async () => {
      const cardId = await seed({ changeCounter: 3 });
      const correlationId = randomUUID();
      expect(await changeCounter(cardId)).toBe(3);

      const answer = await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.iso0) }, { correlationId });

      expect([answer.status, answer.text]).toEqual([204, '']);
      expect(await verifies(cardId, PINS.iso0)).toBe(true);
      expect(await verifies(cardId, PINS.seccos)).toBe(false);
      expect(await changeCounter(cardId)).toBe(4);
      expect(await cardState(cardId)).toEqual({
        cardId,
        maskedPan: '************0119',
        status: 'ACTIVE',
        changeCounter: 4,
        pinType: 'ISO0',
        pinChangedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        pinChanges: 1,
      });
      expect((await call('GET', '/sandbox/applied')).body[correlationId]).toEqual({ pinSets: 1 });
    });

    it('3DES_SECCOS: takes a block computed with the current counter, then needs one computed with the next', async () => {
      const cardId = await seed({ changeCounter: 7 });
      const counter = await changeCounter(cardId);
      const computedWithSeven = await seccos(PINS.seccos, counter);

      const first = await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: computedWithSeven });
      const replayed = await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: computedWithSeven });
      const stale = await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.seccosStale, 7) });
      const current = await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.replaced, 8) });

      expect(counter).toBe(7);
      expect(first.status).toBe(204);
      expect([replayed.status, replayed.body.errorCode]).toEqual([409, 'STALE_CHANGE_COUNTER']);
      expect([stale.status, stale.body.errorCode]).toEqual([409, 'STALE_CHANGE_COUNTER']);
      expectNoSecretIn(stale);
      expect(current.status).toBe(204);
      expect(await verifies(cardId, PINS.replaced)).toBe(true);
      expect(await cardState(cardId)).toMatchObject({ changeCounter: 9, pinChanges: 2, pinType: '3DES_SECCOS' });
    });

    it('an ISO0 PIN change moves the counter a Seccos block must then be computed with', async () => {
      const cardId = await seed();
      expect((await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.iso0) })).status).toBe(204);

      const stale = await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.seccos, 0) });

      expect(stale.status).toBe(409);
      expect((await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.seccos, 1) })).status).toBe(204);
    });

    it('refuses any PIN for a deactivated card with 403', async () => {
      const cardId = await seed({ status: 'DEACTIVATED' });
      const answer = await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) });
      expect([answer.status, answer.body.errorCode]).toEqual([403, 'CARD_DEACTIVATED']);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0, changeCounter: 0 });
    });
  });

  describe('validation', () => {
    it.each<[string, () => Promise<{ cardId?: string; issuerId?: string; body?: unknown; raw?: string }>, number, string]>([
      ['an issuerId of 9 characters', async () => ({ issuerId: 'ISSUERIT0', body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 400, 'INVALID_ISSUER_ID'],
      ['an issuerId of 11 characters', async () => ({ issuerId: 'ISSUERIT011', body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 400, 'INVALID_ISSUER_ID'],
      ['another issuer than the one the CMS serves', async () => ({ issuerId: 'ISSUERIT02', body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 404, 'ISSUER_NOT_FOUND'],
      ['a cardId with a dot', async () => ({ cardId: 'it.card', body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 400, 'INVALID_CARD_ID'],
      ['a cardId of 49 characters', async () => ({ cardId: 'c'.repeat(49), body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 400, 'INVALID_CARD_ID'],
      ['an encryptedPinBlock of 8193 characters', async () => ({ body: { type: 'ISO0', encryptedPinBlock: (await iso0(PINS.invalid)).padEnd(8193, 'A') } }), 400, 'INVALID_BODY'],
      ['a type D1 does not define', async () => ({ body: { type: 'ISO1', encryptedPinBlock: await iso0(PINS.invalid) } }), 400, 'INVALID_BODY'],
      ['a body without encryptedPinBlock', async () => ({ body: { type: 'ISO0' } }), 400, 'INVALID_BODY'],
      ['a body that is not JSON', async () => ({ raw: `{"type": "ISO0", "pin": ${PINS.inBrokenJson}` }), 400, 'MALFORMED_BODY'],
      ['an encryptedPinBlock of 8192 characters that is no JWE', async () => ({ body: { type: 'ISO0', encryptedPinBlock: 'A'.repeat(8192) } }), 400, 'INVALID_ENCRYPTED_PIN_BLOCK'],
      ['a JWE naming another key', async () => ({ body: { type: 'ISO0', encryptedPinBlock: await encryptPinBlock({ format: 'ISO0', pinBlock: encodeIso0(PINS.invalid, PANS.card) }, { kid: 'someone-else' }) } }), 400, 'INVALID_ENCRYPTED_PIN_BLOCK'],
      ['an ISO0 block made for another PAN', async () => ({ body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid, PANS.wrong) } }), 400, 'INVALID_PIN_BLOCK'],
      ['a Seccos block sent as ISO0', async () => ({ body: { type: 'ISO0', encryptedPinBlock: await seccos(PINS.invalid, 0) } }), 400, 'INVALID_PIN_BLOCK'],
      ['a PIN of 3 digits', async () => ({ body: { type: 'ISO0', encryptedPinBlock: await encryptPinBlock({ format: 'ISO0', pinBlock: '03' + '720'.padEnd(14, 'F') }) } }), 400, 'INVALID_PIN_BLOCK'],
      ['a Seccos block computed with a stale counter', async () => ({ body: { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.invalid, 5) } }), 409, 'STALE_CHANGE_COUNTER'],
      ['a card nobody seeded', async () => ({ cardId: 'it-never-seeded', body: { type: 'ISO0', encryptedPinBlock: await iso0(PINS.invalid) } }), 404, 'CARD_NOT_FOUND'],
    ])('refuses %s, echoing no secret and changing nothing', async (_case, request, status, errorCode) => {
      const seeded = await seed({ changeCounter: 6 });
      const { cardId = seeded, issuerId = ISSUER, body, raw } = await request();

      const answer = await call('PUT', pinPath(cardId, issuerId), { body, raw });

      expect([answer.status, answer.body]).toEqual([status, { errorCode, errorMessage: expect.any(String) }]);
      expectNoSecretIn(answer, ...sentBlocks, ...(typeof body === 'object' && body && 'encryptedPinBlock' in body ? [String(body.encryptedPinBlock)] : []));
      expect(await cardState(seeded)).toMatchObject({ changeCounter: 6, pinChanges: 0 });
      expect(await verifies(seeded, PINS.invalid)).toBe(false);
    });

    it('validates the path of the read endpoints the same way', async () => {
      const cardId = await seed();
      const answers = await Promise.all([
        call('GET', `${pinPath(cardId, 'SHORT')}/changeCounter`),
        call('GET', pinPath('bad.card')),
        call('GET', `${pinPath(cardId, 'ISSUERIT02')}/changeCounter`),
        call('GET', `${pinPath('it-never-seeded')}/changeCounter`),
      ]);
      expect(answers.map((answer) => [answer.status, answer.body.errorCode])).toEqual([
        [400, 'INVALID_ISSUER_ID'],
        [400, 'INVALID_CARD_ID'],
        [404, 'ISSUER_NOT_FOUND'],
        [404, 'CARD_NOT_FOUND'],
      ]);
    });
  });

  describe('get card PIN', () => {
    it('answers the ISO0 PIN block encrypted to D1 key, which decodes to the PIN under the PAN', async () => {
      const cardId = await seed({ pan: PANS.other });
      await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.readBack, PANS.other) });

      const answer = await call('GET', pinPath(cardId));

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ type: 'ISO0', encryptedPinBlock: expect.any(String) });
      expect(decodeProtectedHeader(answer.body.encryptedPinBlock)).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'd1-it' });
      expect(await decryptAnswer(answer.body.encryptedPinBlock)).toEqual({ format: 'ISO0', pinBlock: encodeIso0(PINS.readBack, PANS.other) });
    });

    it('answers a Seccos PIN as a Seccos block carrying the counter it was set with', async () => {
      const cardId = await seed({ changeCounter: 11 });
      await setPin(cardId, { type: '3DES_SECCOS', encryptedPinBlock: await seccos(PINS.readBackSeccos, 11) });

      const answer = await call('GET', pinPath(cardId));
      const block = await decryptAnswer(answer.body.encryptedPinBlock);

      expect(answer.body.type).toBe('3DES_SECCOS');
      expect(block).toEqual({ format: '3DES_SECCOS', pinBlock: expect.stringMatching(/^16371596[0-9A-F]{8}$/), changeCounter: 11 });
    });

    it('answers 404 PIN_NOT_SET for a card without a PIN', async () => {
      const answer = await call('GET', pinPath(await seed()));
      expect([answer.status, answer.body.errorCode]).toEqual([404, 'PIN_NOT_SET']);
    });
  });

  describe('drills', () => {
    afterEach(async () => {
      await setKnobs({ latencyMs: 0, errorRate: 0, timeoutRate: 0, timeoutApplies: true, down: false });
    });

    it('at errorRate 1 answers 500 and applies nothing', async () => {
      const cardId = await seed();
      await setKnobs({ errorRate: 1 });

      const answer = await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.drilled) });
      const counter = await call('GET', `${pinPath(cardId)}/changeCounter`);

      expect([answer.status, answer.body.errorCode]).toEqual([500, 'INTERNAL']);
      expect(counter.status).toBe(500);
      expect(await verifies(cardId, PINS.drilled)).toBe(false);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0, changeCounter: 0 });
    });

    it('at timeoutRate 1 holds the call and answers 504, applying it only when timeoutApplies says so', async () => {
      const cardId = await seed();
      await setKnobs({ timeoutRate: 1, timeoutHoldMs: 300, timeoutApplies: false });

      const started = Date.now();
      const lost = await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.drilled) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      await setKnobs({ timeoutApplies: true });
      const applied = await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.drilled) });

      expect([lost.status, lost.body.errorCode, applied.status]).toEqual([504, 'TIMEOUT', 504]);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 1, changeCounter: 1 });
    });

    it('when down, answers 503 to every vendor call, the token endpoint included', async () => {
      const cardId = await seed();
      await setKnobs({ down: true });

      expect((await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.drilled) })).status).toBe(503);
      expect((await requestToken()).status).toBe(503);
      await setKnobs({ down: false });
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
    });
  });

  describe('hooks', () => {
    it('publish the CMS key as a P-256 ECDH-ES public JWK, without its private part', () => {
      expect(cmsKey).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ECDH-ES', use: 'enc' });
    });

    it('refuse a private key as the caller key, and a PAN that is not 12 to 19 digits, without echoing them', async () => {
      const { privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const privateJwk = await exportJWK(privateKey);
      const key = await call('PUT', '/sandbox/caller-key', { body: { jwk: privateJwk } });
      const pan = await call('PUT', '/sandbox/cards/it-short-pan', { body: { pan: PANS.card.slice(0, 11) } });

      expect([key.status, key.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(key.text).not.toContain(privateJwk.d);
      expect([pan.status, pan.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(pan.text).not.toContain(PANS.card.slice(0, 11));
    });

    it('list every vendor call with its correlation id and card, never a body', async () => {
      const cardId = await seed();
      const correlationId = randomUUID();
      await setPin(cardId, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.iso0) }, { correlationId });

      const calls = (await call('GET', '/sandbox/calls')).body as { cid: string }[];

      expect(calls.filter((recorded) => recorded.cid === correlationId)).toEqual([
        { at: expect.any(String), method: 'PUT', path: pinPath(cardId), cardId, cid: correlationId, status: 204 },
      ]);
    });

    it('forget cards, calls and tokens on reset, and keep both keys', async () => {
      const cardId = await seed();

      expect((await call('POST', '/sandbox/reset')).status).toBe(204);

      expect((await call('GET', `/sandbox/cards/${cardId}`)).status).toBe(404);
      expect((await call('GET', '/sandbox/calls')).body).toEqual([]);
      expect((await call('GET', `${pinPath(cardId)}/changeCounter`)).status).toBe(401);
      expect((await call('GET', '/sandbox/encryption-key')).body).toEqual(cmsKey);
      sandbox.bearer = await newToken();
      const reseeded = await seed();
      await setPin(reseeded, { type: 'ISO0', encryptedPinBlock: await iso0(PINS.iso0) });
      expect((await call('GET', pinPath(reseeded))).status).toBe(200);
    });
  });

  it('keeps every PIN, PAN and PIN block out of its log', async () => {
    const log = await waitFor('the log to hold the requests', async () => {
      const text = readFileSync(service.logFile, 'utf8');
      return text.includes('/cms/api/v1/issuers/') && text;
    });

    expect(leakedDigits(log, [...Object.values(PINS), ...Object.values(PANS)])).toEqual([]);
    expect(sentBlocks.filter((block) => log.includes(block))).toEqual([]);
    expect(log).toContain('PIN set');
  });
});
