import { leakedDigits, SandboxAnswer, SandboxCallOptions, SandboxClient } from '@pinflow/sandbox-kit';
import { RunningApp, SolarisDevice, SolarisPinJwk, SolarisSignedPin, startAppProcess, waitFor } from '@pinflow/testing';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const CLIENT = { clientId: 'pinflow-it', clientSecret: 'it-secret' };
const TOKEN_PATH = '/oauth2/token';
// Every PIN this suite sends; none may appear in the sandbox's log or answers.
const PINS = {
  first: '5830',
  second: '6047',
  drilledError: '4630',
  drilledTimeout: '3715',
  ascending: '1234',
  tripled: '1112',
  fiveDigits: '12345',
  otherDevice: '2958',
  rotated: '7204',
  tampered: '6482',
  changeRequested: '7061',
  expired: '5093',
  signedByDevice: '3085',
};

/**
 * The sandbox as its own process, over real HTTP: Solaris' PIN key and change-card-PIN endpoints,
 * fed by an emulated cardholder device, and the drills and hooks tests rely on.
 */
describe('the Solaris sandbox', () => {
  let service: RunningApp;
  let sandbox: SandboxClient;
  // What the sandbox must never repeat or log: every JWE and signature the suite relayed.
  const relayed: string[] = [];

  const call = (method: string, route: string, options?: SandboxCallOptions) => sandbox.call(method, route, options);
  const newToken = () => sandbox.fetchToken(TOKEN_PATH, CLIENT);

  const latestKey = async (): Promise<SolarisPinJwk> => (await call('GET', '/v1/cards/pin_keys/latest')).body;

  /** A person with a bound device and a card of theirs. */
  async function cardholder(card: Record<string, unknown> = {}): Promise<{ personId: string; cardId: string; device: SolarisDevice }> {
    const personId = `person-${randomUUID()}`;
    const cardId = `card-${randomUUID()}`;
    const device = new SolarisDevice();
    expect((await call('PUT', `/sandbox/persons/${personId}/devices/${device.id}`, { body: { publicKey: device.publicKeyHex, purpose: 'restricted' } })).status).toBe(200);
    expect((await call('PUT', `/sandbox/cards/${cardId}`, { body: { personId, ...card } })).status).toBe(200);
    return { personId, cardId, device };
  }

  async function signedPin(device: SolarisDevice, pin: string, key?: SolarisPinJwk): Promise<SolarisSignedPin> {
    const signed = await device.encryptAndSign(pin, key ?? (await latestKey()));
    relayed.push(signed.encrypted_pin, signed.signature);
    return signed;
  }

  const changePin = (cardId: string, body: unknown) => call('POST', `/v1/cards/${cardId}/pin_update_requests`, { body });
  const cardState = async (cardId: string) => (await call('GET', `/sandbox/cards/${cardId}`)).body;
  const verifies = async (cardId: string, pin: string) => (await call('POST', `/sandbox/cards/${cardId}/verify-pin`, { body: { pin } })).body.matches;
  const setKnobs = (knobs: Record<string, unknown>) => sandbox.setKnobs(knobs);
  const appliedKey = (encryptedPin: string) => createHash('sha256').update(encryptedPin).digest('hex');

  /** A Solaris error answer: `{errors: [one error]}`, the PIN nowhere in it. */
  function expectSolarisError(answer: SandboxAnswer, status: number, error: Record<string, unknown>, pin?: string): void {
    expect(answer.status).toBe(status);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      errors: [{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: String(status), title: expect.any(String), detail: expect.any(String), ...error }],
    });
    if (pin) expect(answer.text).not.toContain(pin);
  }

  beforeAll(async () => {
    service = await startAppProcess('sandbox-solaris', { SANDBOX_CLIENT_ID: CLIENT.clientId, SANDBOX_CLIENT_SECRET: CLIENT.clientSecret });
    sandbox = await SandboxClient.signedIn(service.baseUrl, TOKEN_PATH, CLIENT);
  }, 90_000);

  afterAll(() => service?.stop(), 60_000);

  describe('authentication', () => {
    it('issues bearer tokens for client credentials and refuses wrong ones with invalid_client', async () => {
      const issued = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret } });
      const wrong = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 'guess' } });

      expect(issued.status).toBe(200);
      expect(issued.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
      expect([wrong.status, wrong.body]).toEqual([401, { error: 'invalid_client' }]);
    });

    it('answers 401 in Solaris shape to calls without a token or with one it did not issue, and changes nothing', async () => {
      const { cardId, device } = await cardholder();
      const signed = await signedPin(device, PINS.first);

      const noToken = await call('POST', `/v1/cards/${cardId}/pin_update_requests`, { token: null, body: { device_id: device.id, ...signed } });
      const madeUp = await call('GET', '/v1/cards/pin_keys/latest', { token: 'made-up' });

      expectSolarisError(noToken, 401, { code: 'unauthorized' });
      expectSolarisError(madeUp, 401, { code: 'unauthorized' });
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
    });
  });

  describe('PIN key', () => {
    it('is an RSA JWK with the documented fields, the same at the card-scoped path', async () => {
      const key = await call('GET', '/v1/cards/pin_keys/latest');
      const cardScoped = await call('GET', '/v1/cards/any-card/pin_keys/latest');

      expect(key.status).toBe(200);
      expect(key.body).toEqual({ kid: expect.any(String), kty: 'RSA', use: 'enc', alg: 'RS256', n: expect.any(String), e: 'AQAB' });
      expect(cardScoped.body).toEqual(key.body);
    });

    it('after a rotation, refuses PINs encrypted to the previous key with 400 on key_id, and takes the new one', async () => {
      const { cardId, device } = await cardholder();
      const before = await latestKey();
      const stale = await signedPin(device, PINS.rotated, before);

      const rotated = await call('POST', '/sandbox/pin-keys/rotate');
      const refused = await changePin(cardId, { device_id: device.id, ...stale });
      const fresh = await changePin(cardId, { device_id: device.id, ...(await signedPin(device, PINS.rotated)) });

      expect(rotated.body.kid).not.toBe(before.kid);
      expect(await latestKey()).toEqual(rotated.body);
      expectSolarisError(refused, 400, { code: 'validation_error', source: { field: 'key_id', message: 'key_id is not the id of the latest PIN key' } }, PINS.rotated);
      expect(fresh.status).toBe(201);
      expect(await verifies(cardId, PINS.rotated)).toBe(true);
    });
  });

  describe('change card PIN', () => {
    it('answers 201 {id, status: COMPLETED} and keeps only a hash of the PIN the device encrypted', async () => {
      const { cardId, device, personId } = await cardholder();

      const answer = await changePin(cardId, { device_id: device.id, ...(await signedPin(device, PINS.first)), device_data: 'seon-fingerprint' });

      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'COMPLETED' });
      expect(await verifies(cardId, PINS.first)).toBe(true);
      expect(await verifies(cardId, PINS.second)).toBe(false);
      const state = await cardState(cardId);
      expect(state).toEqual({ cardId, personId, status: 'ACTIVE', pinChangedAt: expect.any(String), pinChanges: 1 });
      expect(JSON.stringify(state)).not.toContain(PINS.first);
    });

    it.each([
      ['an ascending sequence', PINS.ascending, 'must not be an ascending or descending sequence of digits'],
      ['a digit three times', PINS.tripled, 'must not contain the same digit 3 or more times'],
      ['five digits', PINS.fiveDigits, 'must be exactly 4 digits'],
    ])('refuses %s with 400 invalid_pin on the field pin, never repeating the PIN', async (_case, pin, message) => {
      const { cardId, device } = await cardholder();

      const answer = await changePin(cardId, { device_id: device.id, ...(await signedPin(device, pin)) });

      expectSolarisError(answer, 400, { code: 'invalid_pin', title: 'Invalid PIN', detail: `pin ${message}`, source: { field: 'pin', message: `pin ${message}` } }, pin);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0, pinChangedAt: null });
    });

    it("refuses a signature that is not the bound device's with 400 on signature", async () => {
      const { cardId, device } = await cardholder();
      const impostor = new SolarisDevice(device.id);
      const signedByImpostor = await signedPin(impostor, PINS.tampered);
      const genuine = await signedPin(device, PINS.tampered);

      const wrongKey = await changePin(cardId, { device_id: device.id, ...signedByImpostor });
      const otherJwe = await changePin(cardId, { device_id: device.id, ...genuine, signature: device.sign(signedByImpostor.encrypted_pin) });
      const swapped = await changePin(cardId, { device_id: device.id, ...genuine, encrypted_pin: signedByImpostor.encrypted_pin });

      for (const answer of [wrongKey, otherJwe, swapped]) {
        expectSolarisError(answer, 400, { code: 'validation_error', source: { field: 'signature', message: "signature is not a signature of encrypted_pin by the device's restricted key" } }, PINS.tampered);
        expect(answer.text).not.toContain(genuine.encrypted_pin);
      }
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
    });

    it("refuses a signature by the device's unrestricted key: PIN changes need the restricted one", async () => {
      const { personId, cardId } = await cardholder();
      const laxDevice = new SolarisDevice();
      const bound = await call('PUT', `/sandbox/persons/${personId}/devices/${laxDevice.id}`, { body: { publicKey: laxDevice.publicKeyHex, purpose: 'unrestricted' } });

      const answer = await changePin(cardId, { device_id: laxDevice.id, ...(await signedPin(laxDevice, PINS.tampered)) });

      expect(bound.body).toEqual({ personId, deviceId: laxDevice.id, purposes: ['unrestricted'] });
      expectSolarisError(answer, 400, { code: 'validation_error', source: { field: 'signature', message: "signature is not a signature of encrypted_pin by the device's restricted key" } }, PINS.tampered);
    });

    it('also reads a raw r||s signature', async () => {
      const { cardId, device } = await cardholder();
      const signed = await signedPin(device, PINS.second);

      const answer = await changePin(cardId, { device_id: device.id, ...signed, signature: device.sign(signed.encrypted_pin, 'raw') });

      expect(answer.status).toBe(201);
      expect(await verifies(cardId, PINS.second)).toBe(true);
    });

    it('refuses with 403 unauthorized_action a device bound to another person, an unknown device and a closed card', async () => {
      const { cardId } = await cardholder();
      const other = await cardholder();
      const closed = await cardholder({ status: 'CLOSED' });

      const othersDevice = await changePin(cardId, { device_id: other.device.id, ...(await signedPin(other.device, PINS.otherDevice)) });
      const unknownDevice = await changePin(cardId, { device_id: new SolarisDevice().id, ...(await signedPin(other.device, PINS.otherDevice)) });
      const closedCard = await changePin(closed.cardId, { device_id: closed.device.id, ...(await signedPin(closed.device, PINS.otherDevice)) });

      for (const answer of [othersDevice, unknownDevice, closedCard]) {
        expectSolarisError(answer, 403, { code: 'unauthorized_action', title: 'Unauthorized Action', detail: 'Unauthorized action is not allowed.' }, PINS.otherDevice);
      }
      expect((await cardState(cardId)).pinChanges).toBe(0);
      expect((await cardState(closed.cardId)).pinChanges).toBe(0);
    });

    it('refuses an unknown card with 404 model_not_found', async () => {
      const { device } = await cardholder();

      const answer = await changePin('card-never-seeded', { device_id: device.id, ...(await signedPin(device, PINS.second)) });

      expectSolarisError(answer, 404, { code: 'model_not_found', title: 'Model Not Found', detail: "Couldn't find 'Solaris::CardAccount' for id 'card-never-seeded'." }, PINS.second);
    });

    it.each([
      ['cut short', (jwe: string) => jwe.split('.').slice(0, 4).join('.'), 'encrypted_pin is not a JWE in compact serialization'],
      ['with a changed ciphertext', (jwe: string) => jwe.replace(/\.([^.]{4})([^.]*)\.([^.]*)$/, (_all, head, rest, tag) => `.${head === 'AAAA' ? 'BBBB' : 'AAAA'}${rest}.${tag}`), 'encrypted_pin could not be decrypted'],
    ])('refuses a JWE %s, even one the device signed, with 400 on encrypted_pin', async (_case, mangle, message) => {
      const { cardId, device } = await cardholder();
      const { key_id, encrypted_pin } = await signedPin(device, PINS.tampered);
      const malformed = mangle(encrypted_pin);
      expect(malformed).not.toBe(encrypted_pin);

      const answer = await changePin(cardId, { device_id: device.id, key_id, encrypted_pin: malformed, signature: device.sign(malformed) });

      expectSolarisError(answer, 400, { code: 'validation_error', source: { field: 'encrypted_pin', message } }, PINS.tampered);
      expect(answer.text).not.toContain(malformed);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });
    });

    it.each([
      ['a missing field', { device_id: 'd', encrypted_pin: 'x', key_id: 'k' }, { field: 'signature', message: 'signature is missing' }],
      ['a number for a string', { device_id: 42, encrypted_pin: 'x', key_id: 'k', signature: 's' }, { field: 'device_id', message: 'device_id must be a string' }],
    ])('refuses %s with 400 on that field', async (_case, body, source) => {
      const { cardId } = await cardholder();
      expectSolarisError(await changePin(cardId, body), 400, { code: 'validation_error', source });
    });

    it('refuses a body that is not JSON without repeating it', async () => {
      const { cardId } = await cardholder();
      const answer = await call('POST', `/v1/cards/${cardId}/pin_update_requests`, { raw: `{"encrypted_pin": x${PINS.first}` });
      expectSolarisError(answer, 400, { code: 'validation_error' }, PINS.first);
    });
  });

  describe('drills and records', () => {
    afterEach(async () => {
      await setKnobs({ latencyMs: 0, errorRate: 0, timeoutRate: 0, timeoutApplies: true, down: false });
    });

    it('at errorRate 1 answers 500 generic_error and applies nothing', async () => {
      const { cardId, device } = await cardholder();
      const signed = await signedPin(device, PINS.drilledError);
      await setKnobs({ errorRate: 1 });

      const answer = await changePin(cardId, { device_id: device.id, ...signed });

      expectSolarisError(answer, 500, { code: 'generic_error', title: 'Generic Error', detail: 'There was an error.' });
      expect(await verifies(cardId, PINS.drilledError)).toBe(false);
      expect((await call('GET', '/sandbox/applied')).body[appliedKey(signed.encrypted_pin)]).toBeUndefined();
    });

    it('at timeoutRate 1 applies the change, holds the caller and answers 504; a retry applies it again', async () => {
      const { cardId, device } = await cardholder();
      const signed = await signedPin(device, PINS.drilledTimeout);
      await setKnobs({ timeoutRate: 1, timeoutHoldMs: 300 });

      const started = Date.now();
      const timedOut = await changePin(cardId, { device_id: device.id, ...signed });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      await setKnobs({ timeoutRate: 0 });
      const retried = await changePin(cardId, { device_id: device.id, ...signed });

      expect(timedOut.status).toBe(504);
      expect(retried.status).toBe(201);
      expect(await verifies(cardId, PINS.drilledTimeout)).toBe(true);
      expect((await call('GET', '/sandbox/applied')).body[appliedKey(signed.encrypted_pin)]).toEqual({ pinChanges: 2 });
    });

    it('when down, answers every vendor call 503 in Solaris shape, the token endpoint included', async () => {
      await setKnobs({ down: true });
      expectSolarisError(await call('GET', '/v1/cards/pin_keys/latest'), 503, { code: 'service_unavailable' });
      expect((await call('POST', TOKEN_PATH, { token: null, body: {} })).status).toBe(503);
    });

    it('lists every vendor call with its card and status, never a body', async () => {
      const { cardId, device } = await cardholder();
      await changePin(cardId, { device_id: device.id, ...(await signedPin(device, PINS.second)) });

      const calls = (await call('GET', '/sandbox/calls')).body as { cardId: string | null; path: string }[];

      expect(calls.filter((recorded) => recorded.cardId === cardId)).toEqual([
        { at: expect.any(String), method: 'POST', path: `/v1/cards/${cardId}/pin_update_requests`, cardId, cid: expect.any(String), status: 201 },
      ]);
      expect(calls.filter((recorded) => recorded.path === '/v1/cards/pin_keys/latest').every((recorded) => recorded.cardId === null)).toBe(true);
    });

    it('refuses a device key that is not an uncompressed P-256 point with a problem body', async () => {
      const answer = await call('PUT', '/sandbox/persons/p-1/devices/d-1', { body: { publicKey: `04${'11'.repeat(64)}` } });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe('INVALID_DEVICE_KEY');
    });

    it('forgets persons, devices, cards and calls on reset, and keeps the PIN key', async () => {
      const { cardId, device } = await cardholder();
      const key = await latestKey();

      expect((await call('POST', '/sandbox/reset')).status).toBe(204);
      sandbox.bearer = await newToken();

      expect((await call('GET', `/sandbox/cards/${cardId}`)).status).toBe(404);
      expect((await call('GET', '/sandbox/calls')).body).toEqual([expect.objectContaining({ path: TOKEN_PATH })]);
      expect(await latestKey()).toEqual(key);
      const again = await cardholder();
      expect((await changePin(again.cardId, { device_id: device.id, ...(await signedPin(device, PINS.first)) })).status).toBe(403);
    });
  });

  describe('change requests (strong customer authentication)', () => {
    const tans: string[] = [];
    const requestChange = (cardId: string, body: unknown) => call('POST', `/v1/cards/${cardId}/sca_pin_update_requests`, { body });
    const authorize = (id: string, personId: string) => call('POST', `/v1/change_requests/${id}/authorize`, { body: { person_id: personId, delivery_method: 'mobile_number' } });
    const confirm = (id: string, personId: string, tan: string) => call('POST', `/v1/change_requests/${id}/confirm`, { body: { person_id: personId, tan } });
    async function texted(personId: string, id: string): Promise<string> {
      const { tan } = ((await call('GET', `/sandbox/persons/${personId}/sms`)).body as { changeRequestId: string; tan: string }[]).find((text) => text.changeRequestId === id)!;
      tans.push(tan);
      return tan;
    }

    it('change the PIN only once authorized and confirmed with the TAN texted to the person', async () => {
      const { personId, cardId, device } = await cardholder();
      const created = await requestChange(cardId, { device_id: device.id, ...(await signedPin(device, PINS.changeRequested)) });
      expect([created.status, created.body]).toEqual([202, { id: expect.any(String), status: 'AUTHORIZATION_REQUIRED', updated_at: expect.any(String), url: `/v1/change_requests/${created.body.id}/authorize` }]);

      const authorized = await authorize(created.body.id, personId);
      expect([authorized.status, authorized.body.status]).toEqual([201, 'CONFIRMATION_REQUIRED']);
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });

      const tan = await texted(personId, created.body.id);
      expectSolarisError(await confirm(created.body.id, personId, tan === '000000' ? '111111' : '000000'), 422, { code: 'invalid_tan', source: { field: 'tan', message: expect.any(String) } });
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 0 });

      const confirmed = await confirm(created.body.id, personId, tan);
      expect([confirmed.status, confirmed.body]).toEqual([201, expect.objectContaining({ status: 'COMPLETED', response_code: 201 })]);
      expect(await verifies(cardId, PINS.changeRequested)).toBe(true);
      expect((await confirm(created.body.id, personId, tan)).body.status).toBe('COMPLETED');
      expect(await cardState(cardId)).toMatchObject({ pinChanges: 1 });
    });

    it('confirmed by device signing: the bound device signs string_to_sign, no TAN is texted', async () => {
      const { personId, cardId, device } = await cardholder();
      const { id } = (await requestChange(cardId, { device_id: device.id, ...(await signedPin(device, PINS.signedByDevice)) })).body;
      const authorized = await call('POST', `/v1/change_requests/${id}/authorize`, { body: { person_id: personId, delivery_method: 'device_signing', device_id: device.id } });
      expect([authorized.status, authorized.body.status, authorized.body.string_to_sign]).toEqual([201, 'CONFIRMATION_REQUIRED', expect.any(String)]);

      const forged = await call('POST', `/v1/change_requests/${id}/confirm`, { body: { person_id: personId, device_signature: { signature: new SolarisDevice().sign(authorized.body.string_to_sign) } } });
      expectSolarisError(forged, 422, { code: 'invalid_signature', source: { field: 'device_signature.signature', message: expect.any(String) } });
      const signed = await call('POST', `/v1/change_requests/${id}/confirm`, { body: { person_id: personId, device_signature: { signature: device.sign(authorized.body.string_to_sign) } } });

      expect([signed.status, signed.body.status]).toEqual([201, 'COMPLETED']);
      expect(await verifies(cardId, PINS.signedByDevice)).toBe(true);
      expect((await call('GET', `/sandbox/persons/${personId}/sms`)).body).toEqual([]);
    });

    it('refuse a PIN that breaks the rules at once, before any TAN is sent', async () => {
      const { personId, cardId, device } = await cardholder();
      expectSolarisError(await requestChange(cardId, { device_id: device.id, ...(await signedPin(device, PINS.tripled)) }), 400, { code: 'invalid_pin', source: { field: 'pin', message: expect.any(String) } }, PINS.tripled);
      expect((await call('GET', `/sandbox/persons/${personId}/sms`)).body).toEqual([]);
    });

    it('FAIL when not confirmed in time: 410 change_request_expired, the PIN unchanged', async () => {
      const { personId, cardId, device } = await cardholder();
      const { id } = (await requestChange(cardId, { device_id: device.id, ...(await signedPin(device, PINS.expired)) })).body;
      await authorize(id, personId);
      const tan = await texted(personId, id);
      await call('POST', `/sandbox/change_requests/${id}/expire`);

      expectSolarisError(await confirm(id, personId, tan), 410, { code: 'change_request_expired' });
      expect((await call('GET', `/v1/change_requests/${id}`)).body.status).toBe('FAILED');
      expect(await verifies(cardId, PINS.expired)).toBe(false);
    });

    it('keep the TANs out of the log', async () => {
      expect(tans.length).toBeGreaterThan(1);
      expect(leakedDigits(readFileSync(service.logFile, 'utf8'), tans)).toEqual([]);
    });
  });

  it('keeps every PIN, JWE and signature out of its log', async () => {
    const log = await waitFor('the log to hold the requests', async () => {
      const text = readFileSync(service.logFile, 'utf8');
      return text.includes('/pin_update_requests') && text;
    });

    expect(leakedDigits(log, Object.values(PINS))).toEqual([]);
    expect(relayed.filter((secret) => log.includes(secret))).toEqual([]);
    expect(relayed.length).toBeGreaterThan(20);
  });
});
