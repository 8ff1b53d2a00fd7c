import { leakedDigits, SandboxAnswer, SandboxCallOptions, SandboxClient } from '@pinflow/sandbox-kit';
import { RunningApp, startAppProcess, waitFor } from '@pinflow/testing';
import { constants, createPublicKey, publicEncrypt, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface PublicKey {
  id: string;
  publicKey: string;
}

const CLIENT = { clientId: 'pinflow-it', clientSecret: 'it-secret' };
const TOKEN_PATH = '/v2/auth/token';
const INT64_MAX = '9223372036854775807';
// Every passcode this suite sends; none may appear in the sandbox's log or answers.
const PASSCODES = {
  first: '7392',
  second: '5081',
  weakRun: '1112',
  weakSame: '4444',
  tooLong: '73925',
  afterRotation: '6830',
  drilledError: '3958',
  drilledTimeout: '8163',
  sha1: '9472',
  pkcs1: '3605',
  inBrokenJson: '8527',
  unknownCard: '6419',
  outOfRange: '5730',
};
/** Every one-time code the suite saw: none may appear in the log either. */
const codesSeen: string[] = [];
/** Every passCode ciphertext sent: a body that reached the log would show one. */
const ciphertextsSent: string[] = [];

/**
 * The Vault sandbox as its own process, over real HTTP: tokens, the RSA key, one-time codes, setting a
 * passcode and each way Vault refuses one, in Vault's error shape; the drills and hooks tests rely on.
 */
describe('the Vault sandbox', () => {
  let service: RunningApp;
  let sandbox: SandboxClient;

  const call = (method: string, route: string, options?: SandboxCallOptions) => sandbox.call(method, route, options);
  const newToken = () => sandbox.fetchToken(TOKEN_PATH, CLIENT);

  /** A fresh card with a random int64 id. */
  async function seed(card: Record<string, unknown> = {}): Promise<string> {
    const id = String(randomInt(1, 2 ** 47));
    expect((await call('PUT', `/sandbox/cards/${id}`, { body: card })).status).toBe(200);
    return id;
  }

  /** Asks Vault to text a code, then reads it off the cardholder's phone (the hook). */
  async function textedCode(cardId: string): Promise<string> {
    expect((await call('POST', `/v2/card/${cardId}/passcode/sms/send`)).body).toEqual({ result: 'ok' });
    const { code } = (await call('GET', `/sandbox/cards/${cardId}/otp`)).body;
    codesSeen.push(code);
    return code;
  }

  async function currentKey(): Promise<PublicKey> {
    return (await call('GET', '/v2/card/rsa-public-key')).body;
  }

  /** What the worker does: RSA-OAEP with SHA-256 to Vault's public key, base64. */
  function encrypt(passcode: string, key: PublicKey, encryption: { padding: number; oaepHash?: string } = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }): string {
    const publicKey = createPublicKey({ key: Buffer.from(key.publicKey, 'base64'), format: 'der', type: 'spki' });
    const ciphertext = publicEncrypt({ key: publicKey, ...encryption }, Buffer.from(passcode)).toString('base64');
    ciphertextsSent.push(ciphertext);
    return ciphertext;
  }

  async function setPasscode(cardId: string, passcode: string, code: string, key?: PublicKey): Promise<SandboxAnswer> {
    const used = key ?? (await currentKey());
    return call('POST', `/v2/card/${cardId}/passcode/code/set`, { body: { keyId: used.id, code, passCode: encrypt(passcode, used) } });
  }

  const cardState = async (cardId: string) => (await call('GET', `/sandbox/cards/${cardId}`)).body;
  const verifies = async (cardId: string, passCode: string) => (await call('POST', `/sandbox/cards/${cardId}/verify-passcode`, { body: { passCode } })).body.matches;
  const setKnobs = (knobs: Record<string, unknown>) => sandbox.setKnobs(knobs);

  /** Vault's error shape, with nothing of what was sent in it. */
  function expectVaultError(answer: SandboxAnswer, status: number, error: string, field?: string): void {
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error, errorId: expect.any(Number), message: expect.any(String), ...(field ? { field } : {}), systemId: 'vault-sandbox' });
    for (const secret of [...Object.values(PASSCODES), ...codesSeen, ...ciphertextsSent]) expect(answer.text).not.toContain(secret);
  }

  beforeAll(async () => {
    service = await startAppProcess('sandbox-vault', { SANDBOX_CLIENT_ID: CLIENT.clientId, SANDBOX_CLIENT_SECRET: CLIENT.clientSecret });
    sandbox = await SandboxClient.signedIn(service.baseUrl, TOKEN_PATH, CLIENT);
  }, 90_000);

  afterAll(() => service?.stop(), 60_000);

  describe('tokens', () => {
    it('are required: without one, or with one Vault did not issue, every card call is refused with 401', async () => {
      expectVaultError(await call('GET', '/v2/card/rsa-public-key', { token: null }), 401, 'UNAUTHORIZED');
      expectVaultError(await call('POST', `/v2/card/${await seed()}/passcode/sms/send`, { token: 'made-up' }), 401, 'UNAUTHORIZED');
    });

    it('are issued for client credentials at POST /v2/auth/token, and refused for wrong ones in Vault\'s shape with OAuth2\'s code', async () => {
      const basic = await call('POST', TOKEN_PATH, {
        token: null,
        body: { grant_type: 'client_credentials' },
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}` },
      });
      expect([basic.status, basic.body]).toEqual([200, { access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 }]);
      expect((await call('GET', '/v2/card/rsa-public-key', { token: basic.body.access_token })).status).toBe(200);
      const wrong = await call('POST', TOKEN_PATH, { token: null, body: { grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: 'guess' } });
      expectVaultError(wrong, 401, 'invalid_client');
      expect(wrong.text).not.toContain('guess');
    });
  });

  describe('the RSA public key', () => {
    it('is a 2048-bit RSA key as base64 DER SubjectPublicKeyInfo, with an id', async () => {
      const answer = await call('GET', '/v2/card/rsa-public-key');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ id: expect.any(String), publicKey: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) });
      const key = createPublicKey({ key: Buffer.from(answer.body.publicKey, 'base64'), format: 'der', type: 'spki' });
      expect([key.asymmetricKeyType, key.asymmetricKeyDetails?.modulusLength]).toEqual(['rsa', 2048]);
      expect((await currentKey()).id).toBe(answer.body.id);
    });
  });

  describe('setting a passcode', () => {
    it('takes the texted code and the encrypted passcode, answers {result: "ok"}, and keeps only its hash', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);

      const answer = await setPasscode(cardId, PASSCODES.first, code);

      expect([answer.status, answer.body]).toEqual([200, { result: 'ok' }]);
      expect(await verifies(cardId, PASSCODES.first)).toBe(true);
      expect(await verifies(cardId, PASSCODES.second)).toBe(false);
      expect(await cardState(cardId)).toEqual({ id: cardId, status: 'ACTIVE', passcodeSetAt: expect.any(String), passcodeChanges: 1 });
      expect((await call('GET', '/sandbox/applied')).body[cardId]).toEqual({ passcodeSets: 1, codesSent: 1 });
      expect((await call('GET', `/sandbox/cards/${cardId}/otp`)).body).toMatchObject({ used: true });
    });

    it('takes a code issued by the hook too, and one checked first with sms/verify, which does not use it up', async () => {
      const cardId = await seed();
      const issued = await call('POST', `/sandbox/cards/${cardId}/otp`);
      codesSeen.push(issued.body.code);
      expect(issued.body).toEqual({ code: expect.stringMatching(/^\d{6}$/), expiresAt: expect.any(String), used: false });

      expect((await call('POST', `/v2/card/${cardId}/passcode/sms/verify`, { body: { code: issued.body.code } })).body).toEqual({ result: 'ok' });
      expect((await setPasscode(cardId, PASSCODES.second, issued.body.code)).status).toBe(200);
      expect(await verifies(cardId, PASSCODES.second)).toBe(true);
    });

    it('refuses a wrong code and a used one, and keeps the passcode it had', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      const wrong = code === '000000' ? '000001' : '000000';

      expectVaultError(await setPasscode(cardId, PASSCODES.first, wrong), 400, 'CODE_INVALID', 'code');
      expect((await setPasscode(cardId, PASSCODES.first, code)).status).toBe(200);
      expectVaultError(await setPasscode(cardId, PASSCODES.second, code), 400, 'CODE_ALREADY_USED', 'code');

      expect(await verifies(cardId, PASSCODES.first)).toBe(true);
      expect((await cardState(cardId)).passcodeChanges).toBe(1);
    });

    it('refuses an expired code', async () => {
      const cardId = await seed();
      await setKnobs({ codeTtlSeconds: 1 });
      const code = await textedCode(cardId);
      await setKnobs({ codeTtlSeconds: 300 });
      await new Promise((resolve) => setTimeout(resolve, 1100));

      expectVaultError(await setPasscode(cardId, PASSCODES.first, code), 400, 'CODE_EXPIRED', 'code');
      expect((await cardState(cardId)).passcodeChanges).toBe(0);
    });

    it.each([
      ['three equal digits in a row', PASSCODES.weakRun, 'PASSCODE_TOO_WEAK'],
      ['four equal digits', PASSCODES.weakSame, 'PASSCODE_TOO_WEAK'],
      ['five digits', PASSCODES.tooLong, 'PASSCODE_INVALID_FORMAT'],
    ])('refuses a passcode of %s, and the code stays usable for another try', async (_case, passcode, error) => {
      const cardId = await seed();
      const code = await textedCode(cardId);

      expectVaultError(await setPasscode(cardId, passcode, code), 400, error, 'passCode');

      expect(await verifies(cardId, passcode)).toBe(false);
      expect((await setPasscode(cardId, PASSCODES.first, code)).status).toBe(200);
    });

    it('refuses the old key id after a rotation with KEY_EXPIRED, and works again with the key fetched anew', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      const old = await currentKey();

      const rotated = await call('POST', '/sandbox/rsa-key/rotate');
      const refused = await setPasscode(cardId, PASSCODES.afterRotation, code, old);
      const fetched = await currentKey();

      expect(rotated.body.id).not.toBe(old.id);
      expectVaultError(refused, 400, 'KEY_EXPIRED', 'keyId');
      expect(fetched).toEqual(rotated.body);
      expect((await setPasscode(cardId, PASSCODES.afterRotation, code, fetched)).status).toBe(200);
      expect(await verifies(cardId, PASSCODES.afterRotation)).toBe(true);
    });

    it('answers 404 for a card nobody seeded, and 400 naming the id for one that is not an int64 from 1 to 2^63-1', async () => {
      const someCard = await seed();
      const code = await textedCode(someCard);
      expectVaultError(await setPasscode('4242424242', PASSCODES.unknownCard, code), 404, 'CARD_NOT_FOUND', 'id');
      for (const id of ['9223372036854775808', '0', '-5', 'abc']) {
        expectVaultError(await setPasscode(id, PASSCODES.outOfRange, code), 400, 'VALIDATION_ERROR', 'id');
      }
      expect((await call('PUT', `/sandbox/cards/${INT64_MAX}`, { body: {} })).status).toBe(200);
      expect((await call('POST', `/v2/card/${INT64_MAX}/passcode/sms/send`)).status).toBe(200);
    });

    it('refuses a body that is not JSON, or that lacks a field, without repeating it', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      const broken = await call('POST', `/v2/card/${cardId}/passcode/code/set`, { raw: `{"keyId": "k", "code": "${code}", "passCode": ${PASSCODES.inBrokenJson}` });
      const missing = await call('POST', `/v2/card/${cardId}/passcode/code/set`, { body: { keyId: 'k', code } });

      expectVaultError(broken, 400, 'BAD_REQUEST');
      expectVaultError(missing, 400, 'VALIDATION_ERROR', 'passCode');
    });

    it('decrypts with the padding the rsaPadding knob names', async () => {
      const cardId = await seed();
      const key = await currentKey();
      try {
        await setKnobs({ rsaPadding: 'oaep-sha1' });
        const sha1 = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };
        const code = await textedCode(cardId);
        const withSha256 = await call('POST', `/v2/card/${cardId}/passcode/code/set`, { body: { keyId: key.id, code, passCode: encrypt(PASSCODES.sha1, key) } });
        expectVaultError(withSha256, 400, 'PASSCODE_UNREADABLE', 'passCode');
        const withSha1 = await call('POST', `/v2/card/${cardId}/passcode/code/set`, { body: { keyId: key.id, code, passCode: encrypt(PASSCODES.sha1, key, sha1) } });
        expect(withSha1.status).toBe(200);

        await setKnobs({ rsaPadding: 'pkcs1' });
        const next = await textedCode(cardId);
        const withPkcs1 = await call('POST', `/v2/card/${cardId}/passcode/code/set`, { body: { keyId: key.id, code: next, passCode: encrypt(PASSCODES.pkcs1, key, { padding: constants.RSA_PKCS1_PADDING }) } });
        expect(withPkcs1.status).toBe(200);
        expect(await verifies(cardId, PASSCODES.pkcs1)).toBe(true);
      } finally {
        await setKnobs({ rsaPadding: 'oaep-sha256' });
      }
    });
  });

  describe('drills', () => {
    afterEach(async () => {
      await setKnobs({ errorRate: 0, timeoutRate: 0, timeoutApplies: true, down: false });
    });

    it('at errorRate 1 answer 500 COMMON and apply nothing: the code stays usable', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      const key = await currentKey();
      await setKnobs({ errorRate: 1 });

      const answer = await setPasscode(cardId, PASSCODES.drilledError, code, key);

      expectVaultError(answer, 500, 'COMMON');
      expect(answer.body.message).toBe("Sorry for inconvenience. We're fixing the issue. If you have urgent questions, contact support");
      await setKnobs({ errorRate: 0 });
      expect(await cardState(cardId)).toMatchObject({ passcodeChanges: 0 });
      expect(await verifies(cardId, PASSCODES.drilledError)).toBe(false);
      expect((await call('GET', '/sandbox/applied')).body[cardId]).toEqual({ passcodeSets: 0, codesSent: 1 });
      expect((await call('GET', `/sandbox/cards/${cardId}/otp`)).body.used).toBe(false);
    });

    it('at timeoutRate 1 answer 504 after applying the change: a retry with the same code is refused as used', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      const key = await currentKey();
      await setKnobs({ timeoutRate: 1, timeoutHoldMs: 200, timeoutApplies: true });

      const started = Date.now();
      expectVaultError(await setPasscode(cardId, PASSCODES.drilledTimeout, code, key), 504, 'GATEWAY_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      await setKnobs({ timeoutRate: 0 });

      expect(await verifies(cardId, PASSCODES.drilledTimeout)).toBe(true);
      expectVaultError(await setPasscode(cardId, PASSCODES.drilledTimeout, code, key), 400, 'CODE_ALREADY_USED', 'code');
    });

    it('when down, answer every vendor call 503, the token endpoint included', async () => {
      await setKnobs({ down: true });
      expectVaultError(await call('GET', '/v2/card/rsa-public-key'), 503, 'SERVICE_UNAVAILABLE');
      expect((await call('POST', TOKEN_PATH, { token: null, body: {} })).status).toBe(503);
    });
  });

  describe('records and hooks', () => {
    it('list every vendor call with its card and status, never a body', async () => {
      const cardId = await seed();
      const code = await textedCode(cardId);
      await setPasscode(cardId, PASSCODES.second, code);

      const calls = ((await call('GET', '/sandbox/calls')).body as { cardId: string | null }[]).filter((recorded) => recorded.cardId === cardId);

      expect(calls).toEqual([
        { at: expect.any(String), method: 'POST', path: `/v2/card/${cardId}/passcode/sms/send`, cardId, cid: expect.any(String), status: 200 },
        { at: expect.any(String), method: 'POST', path: `/v2/card/${cardId}/passcode/code/set`, cardId, cid: expect.any(String), status: 200 },
      ]);
    });

    it('show a card without its passcode, and refuse a card id that is not an int64 with a problem body', async () => {
      const cardId = await seed({ status: 'BLOCKED' });
      expect(await cardState(cardId)).toEqual({ id: cardId, status: 'BLOCKED', passcodeSetAt: null, passcodeChanges: 0 });
      const invalid = await call('PUT', '/sandbox/cards/9223372036854775808', { body: {} });
      expect([invalid.status, invalid.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect((await call('GET', '/sandbox/cards/4242424243')).status).toBe(404);
    });

    it('forget cards, codes, calls, knobs and tokens on reset, and keep the key', async () => {
      const cardId = await seed();
      await textedCode(cardId);
      const key = await currentKey();
      await setKnobs({ codeTtlSeconds: 5 });

      expect((await call('POST', '/sandbox/reset')).status).toBe(204);

      expect((await call('GET', `/sandbox/cards/${cardId}`)).status).toBe(404);
      expect((await call('GET', '/sandbox/calls')).body).toEqual([]);
      expect((await call('GET', '/sandbox/applied')).body).toEqual({});
      expect((await call('GET', '/sandbox/knobs')).body).toMatchObject({ codeTtlSeconds: 300, rsaPadding: 'oaep-sha256' });
      expect((await call('GET', '/v2/card/rsa-public-key')).status).toBe(401);
      sandbox.bearer = await newToken();
      expect((await currentKey()).id).toBe(key.id);
    });
  });

  it('keeps every passcode, code and ciphertext out of its log', async () => {
    const log = await waitFor('the log to hold the requests', async () => {
      const text = readFileSync(service.logFile, 'utf8');
      return text.includes('/passcode/code/set') && text;
    });

    expect(codesSeen.length).toBeGreaterThan(10);
    expect(leakedDigits(log, Object.values(PASSCODES))).toEqual([]);
    expect(leakedDigits(log, codesSeen)).toEqual([]);
    expect(ciphertextsSent.filter((ciphertext) => log.includes(ciphertext))).toEqual([]);
  });
});
