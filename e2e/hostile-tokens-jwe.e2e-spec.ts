import { DEV_AUDIENCE, DEV_ISSUER, PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { commandTopic, PISMO_PIN_RULES, THALES_D1_PIN_RULES, VAULT_PIN_RULES, VENDORS } from '@pinflow/contracts';
import { waitFor } from '@pinflow/testing';
import { encryptSecret, PIN_JWE_ALG, type PinPublicJwk, type SecretKind } from '@pinflow/pin-crypto';
import { checkPin, COMMON_PINS_BY_LENGTH, type PinRules } from '@pinflow/pin-policy';
import { base64url, CompactEncrypt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { errorLogLines, http, messagesCausedBy, startSuite, Suite } from './support';

/** The one writer of this suite, so that its commands (there must be none) can be told from other suites'. */
const HOSTILE_CALLER = 'hostile-tokens-jwe-client';
/** A well-behaved caller, whose requests the hostile ones try to read. */
const OTHER_CALLER = 'hostile-tokens-jwe-owner';

/** A bound for hangs, not a benchmark: a hostile request must not hold a connection open. */
const ANSWER_BOUND_MS = 2_000;
const CONCURRENCY = 8;

interface HostileRequest {
  what: string;
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Strings the request carried that no answer may quote: PINs, JWEs, tokens. */
  secrets: string[];
}

interface Answer {
  request: HostileRequest;
  status: number;
  contentType: string;
  text: string;
  millis: number;
}

async function send(request: HostileRequest): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  const text = await response.text();
  return { request, status: response.status, contentType: response.headers.get('content-type') ?? '', text, millis: performance.now() - started };
}

/** Sends the requests CONCURRENCY at a time; answers in the requests' order. */
async function sendAll(requests: HostileRequest[]): Promise<Answer[]> {
  const answers: Answer[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      answers[index] = await send(requests[index]);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers;
}

/** What is wrong with an answer to a hostile request, if anything: each line names the request. */
function faults(answers: Answer[]): string[] {
  return answers.flatMap(({ request, status, contentType, text, millis }) => {
    const found: string[] = [];
    if (status < 400 || status >= 500) found.push(`status ${status}`);
    if (!contentType.startsWith('application/problem+json')) found.push(`content-type ${contentType}`);
    let code: unknown;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      // Not JSON: reported below as a missing code.
    }
    if (typeof code !== 'string') found.push('no code');
    const echoed = request.secrets.filter((secret) => text.includes(secret));
    if (echoed.length > 0) found.push(`echoed ${echoed.length} secret(s)`);
    if (millis > ANSWER_BOUND_MS) found.push(`answered after ${Math.round(millis)} ms`);
    return found.length === 0 ? [] : [`${request.what}: ${found.join(', ')} ${text.slice(0, 200)}`];
  });
}

function codesOf(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status, text } of answers) {
    const key = `${status} ${(JSON.parse(text) as { code: string }).code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Replaces a compact serialization's segment `index` with `replacement`. */
function withSegment(compact: string, index: number, replacement: string): string {
  const parts = compact.split('.');
  parts[index] = replacement;
  return parts.join('.');
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** Changes the first character of a base64url segment (the last may only hold padding bits), so that it decodes to other bytes. */
function tampered(compact: string, index: number): string {
  const segment = compact.split('.')[index];
  const first = segment[0] === 'A' ? 'B' : 'A';
  return withSegment(compact, index, first + segment.slice(1));
}

/**
 * Weak and ill-sized PINs of every length a PIN JWE may carry (4 to 12), for one vendor's rules: each
 * length's most common PINs and the patterns people pick, every one of which the rules refuse.
 */
function weakPins(rules: PinRules): string[] {
  const pins = new Set<string>();
  for (let length = 4; length <= 12; length++) {
    const digits = (start: number, step: number) => Array.from({ length }, (_, index) => String((((start + index * step) % 10) + 10) % 10)).join('');
    const half = digits(1, 1).slice(0, Math.ceil(length / 2));
    const candidates = [
      ...(COMMON_PINS_BY_LENGTH[length] ?? []).slice(0, 3),
      digits(0, 0),
      digits(7, 0),
      digits(1, 1),
      digits(9, -1),
      digits(1, 2),
      half + [...half].reverse().join('').slice(length % 2),
    ];
    for (const pin of candidates.filter((candidate) => !checkPin(candidate, rules).ok).slice(0, 6)) pins.add(pin);
  }
  return [...pins];
}

describe('intake and audit given hostile tokens, JWEs and PINs', () => {
  let suite: Suite;
  let intake: string;
  let audit: string;
  let pinKey: PinPublicJwk;
  const answersByCategory: Record<string, Answer[]> = {};

  const json = (token: string | undefined, extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    ...extra,
  });

  /** A write as the hostile caller, with a fresh Idempotency-Key so that it reaches the check it targets. */
  const write = (what: string, path: string, body: unknown, secrets: string[], headers: Record<string, string> = {}): HostileRequest => ({
    what,
    method: 'POST',
    url: `${intake}${path}`,
    headers: json(suite.writeToken, { 'idempotency-key': randomUUID(), ...headers }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    secrets,
  });

  async function expectRefused(category: string, requests: HostileRequest[]): Promise<void> {
    const answers = await sendAll(requests);
    answersByCategory[category] = answers;
    expect(faults(answers)).toEqual([]);
  }

  beforeAll(async () => {
    const unlimited = { AUTH_RATE_LIMIT: '1000000' };
    suite = await startSuite({ apps: ['intake', 'audit'], writer: HOSTILE_CALLER, topics: VENDORS.map(commandTopic), env: { intake: unlimited, audit: unlimited } });
    intake = suite.stack.urls.intake;
    audit = suite.stack.urls.audit;
    // A second trusted signing key, as during an issuer's key rollover: a token without kid then names no key.
    const devPublicKey = JSON.parse(readFileSync(suite.stack.secrets.authPublicKeyFile, 'utf8')) as JWK;
    const { publicKey: rolloverKey } = await generateKeyPair('ES256');
    writeFileSync(suite.stack.secrets.authPublicKeyFile, JSON.stringify({ keys: [devPublicKey, { ...(await exportJWK(rolloverKey)), kid: 'rollover-key', alg: 'ES256', use: 'sig' }] }));
    await Promise.all([suite.stack.restart('intake'), suite.stack.restart('audit')]);
    const published = await http<{ keys: PinPublicJwk[] }>('GET', `${intake}/v1/pin-keys`);
    pinKey = published.body.keys[0];
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it('refuses weak and ill-sized PINs of every length, for every vendor that reads them, without quoting them', async () => {
    const seal = (kind: SecretKind, value: string) => encryptSecret(kind, value, pinKey);
    const pan = await seal('pan', '4111111111111111');
    const code = await seal('oneTimeCode', '123456');
    const requests: HostileRequest[] = [];
    for (const pin of weakPins(PISMO_PIN_RULES)) {
      const encryptedPin = await seal('pin', pin);
      requests.push(write(`Pismo PIN of ${pin.length}`, '/v1/pismo/cards/card-1/pin', { encryptedPin }, [pin, encryptedPin]));
    }
    for (const pin of weakPins(THALES_D1_PIN_RULES)) {
      const encryptedPin = await seal('pin', pin);
      requests.push(write(`Thales D1 PIN of ${pin.length}`, '/v1/thales-d1/issuers/ISSUER0001/cards/card-1/pin', { pinBlockFormat: 'ISO0', encryptedPin, encryptedPan: pan }, [pin, encryptedPin, pan]));
    }
    for (const passcode of weakPins(VAULT_PIN_RULES)) {
      const encryptedPasscode = await seal('passcode', passcode);
      requests.push(write(`Vault passcode of ${passcode.length}`, '/v1/vault/cards/4242/passcode', { encryptedPasscode, encryptedCode: code }, [passcode, encryptedPasscode, code]));
    }
    expect(requests.length).toBeGreaterThanOrEqual(100);
    await expectRefused('weak PINs', requests);
    expect(Object.keys(codesOf(answersByCategory['weak PINs']))).toEqual(['422 PIN_REJECTED']);
  });

  it('refuses every JWE trick in every field intake decrypts: 400 with the field\'s *_UNDECRYPTABLE code', async () => {
    const { publicKey: strangerKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const stranger = { ...(await exportJWK(strangerKey)), kid: pinKey.kid };
    // Without its `alg`, the key takes any algorithm a trick names.
    const { alg: _alg, ...anyAlgorithmKey } = pinKey;
    const encrypt = (plaintext: string | Uint8Array, header: Record<string, unknown>, key: JWK = anyAlgorithmKey) =>
      new CompactEncrypt(typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext).setProtectedHeader({ alg: PIN_JWE_ALG, enc: 'A256GCM', kid: pinKey.kid, ...header }).encrypt(key);

    /** A field intake decrypts, with a body it is valid in and a value of its kind. */
    const fields: Array<{ path: string; field: string; kind: SecretKind; value: string; body: (jwe: string) => Record<string, string> }> = [];
    const pan = await encryptSecret('pan', '4111111111111111', pinKey);
    const pin = await encryptSecret('pin', '8351', pinKey);
    const code = await encryptSecret('oneTimeCode', '123456', pinKey);
    const passcode = await encryptSecret('passcode', '8351', pinKey);
    fields.push(
      { path: '/v1/pismo/cards/card-1/pin', field: 'encryptedPin', kind: 'pin', value: '8351', body: (jwe) => ({ encryptedPin: jwe }) },
      { path: '/v1/thales-d1/issuers/ISSUER0001/cards/card-1/pin', field: 'encryptedPin', kind: 'pin', value: '8351', body: (jwe) => ({ pinBlockFormat: 'ISO0', encryptedPin: jwe, encryptedPan: pan }) },
      { path: '/v1/thales-d1/issuers/ISSUER0001/cards/card-1/pin', field: 'encryptedPan', kind: 'pan', value: '4111111111111111', body: (jwe) => ({ pinBlockFormat: 'ISO0', encryptedPin: pin, encryptedPan: jwe }) },
      { path: '/v1/vault/cards/4242/passcode', field: 'encryptedPasscode', kind: 'passcode', value: '8351', body: (jwe) => ({ encryptedPasscode: jwe, encryptedCode: code }) },
      { path: '/v1/vault/cards/4242/passcode', field: 'encryptedCode', kind: 'oneTimeCode', value: '123456', body: (jwe) => ({ encryptedPasscode: passcode, encryptedCode: jwe }) },
      { path: '/v1/vault/cards/4242/verification-code/check', field: 'encryptedCode', kind: 'oneTimeCode', value: '123456', body: (jwe) => ({ encryptedCode: jwe }) },
    );

    const requests: HostileRequest[] = [];
    for (const { path, field, kind, value, body } of fields) {
      const plaintext = JSON.stringify({ [kind]: value });
      const valid = await encrypt(plaintext, {});
      const header = decodeProtectedHeader(valid);
      const forged = (changes: Record<string, unknown>) => withSegment(valid, 0, encodeJson({ ...header, ...changes }));
      const tricks: Array<[string, string]> = [
        ['alg RSA-OAEP', await encrypt(plaintext, { alg: 'RSA-OAEP' })],
        ['enc A128GCM', await encrypt(plaintext, { enc: 'A128GCM' })],
        ['enc A128CBC-HS256', await encrypt(plaintext, { enc: 'A128CBC-HS256' })],
        ['alg dir', forged({ alg: 'dir' })],
        ['alg none', forged({ alg: 'none' })],
        ['alg RSA1_5', forged({ alg: 'RSA1_5' })],
        ['alg A256KW', forged({ alg: 'A256KW' })],
        ['alg ECDH-ES', forged({ alg: 'ECDH-ES', epk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } })],
        ['PBES2 with a huge p2c', forged({ alg: 'PBES2-HS512+A256KW', p2c: 2_000_000_000, p2s: 'c2FsdHNhbHQ' })],
        ['zip DEF', forged({ zip: 'DEF' })],
        ['a crit header', forged({ crit: ['exp'], exp: 1 })],
        ['no kid', forged({ kid: undefined })],
        ['an unknown kid', forged({ kid: 'pin-key-unknown' })],
        ['a kid of 10 kB', forged({ kid: 'k'.repeat(10_000) })],
        ['a kid "__proto__"', forged({ kid: '__proto__' })],
        ['the right kid on a stranger key', await encrypt(plaintext, {}, stranger)],
        ['a tampered tag', tampered(valid, 4)],
        ['a tampered ciphertext', tampered(valid, 3)],
        ['a tampered iv', tampered(valid, 2)],
        ['a tampered encrypted key', tampered(valid, 1)],
        ['an empty tag', withSegment(valid, 4, '')],
        ['a header that is not JSON', withSegment(valid, 0, base64url.encode('not json'))],
        ['a header that is a JSON array', withSegment(valid, 0, encodeJson([header]))],
        ['six segments', `${valid}.AAAA`],
        ['a payload that is not JSON', await encrypt(value, {})],
        ['a payload that is not UTF-8', await encrypt(new Uint8Array([0xff, 0xfe, 0x31, 0x32]), {})],
        ['a payload of another kind', await encrypt(JSON.stringify({ [kind === 'pan' ? 'pin' : 'pan']: value }), {})],
        ['a value that is a number', await encrypt(JSON.stringify({ [kind]: Number(value) }), {})],
        ['a value of letters', await encrypt(JSON.stringify({ [kind]: 'abc!' }), {})],
        ['a value too long', await encrypt(JSON.stringify({ [kind]: '1'.repeat(20) }), {})],
        ['a payload that is an array', await encrypt(JSON.stringify([value]), {})],
      ];
      for (const [trick, jwe] of tricks) requests.push(write(`${path} ${field} with ${trick}`, path, body(jwe), [jwe, value]));
    }
    expect(requests.length).toBeGreaterThanOrEqual(150);
    await expectRefused('JWE tricks', requests);
    const codes = Object.keys(codesOf(answersByCategory['JWE tricks']));
    expect(codes.filter((code) => !/^4\d\d (PIN|PAN|PASSCODE|ONE_TIME_CODE)_UNDECRYPTABLE$|^400 VALIDATION_FAILED$/.test(code))).toEqual([]);
  });

  it('refuses every token trick at intake and audit, reads and writes alike', async () => {
    const signingKey = JSON.parse(readFileSync(suite.stack.secrets.authPublicKeyFile.replace(/\.pub\.json$/, '.json'), 'utf8')) as JWK & { kid: string };
    const publicKey = JSON.parse(readFileSync(suite.stack.secrets.authPublicKeyFile, 'utf8')).keys[0] as JWK;
    const { privateKey: strangerEc } = await generateKeyPair('ES256');
    const { privateKey: strangerRsa } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: HOSTILE_CALLER, iat: now, exp: now + 600, scope: `${PIN_WRITE_SCOPE} ${PIN_READ_SCOPE}` };
    const sign = (changes: Record<string, unknown>, header: Record<string, unknown> = {}, key: JWK | CryptoKey | Uint8Array = signingKey) =>
      new SignJWT(Object.fromEntries(Object.entries({ ...claims, ...changes }).filter(([, claim]) => claim !== undefined)))
        .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid, typ: 'JWT', ...header } as { alg: string })
        .sign(key);
    const valid = await sign({});
    // The untouched token passes, so that each trick below is refused for the one thing it changes.
    expect((await http('GET', `${intake}/v1/requests/${randomUUID()}`, { token: valid })).body.code).toBe('REQUEST_NOT_FOUND');
    const unsigned = (header: Record<string, unknown>) => `${encodeJson(header)}.${valid.split('.')[1]}.`;

    const tokens: Array<[string, string | undefined, string?]> = [
      ['no Authorization header', undefined],
      ['Basic credentials', undefined, `Basic ${Buffer.from(`${HOSTILE_CALLER}:secret`).toString('base64')}`],
      ['an empty bearer', undefined, 'Bearer '],
      ['a bearer of garbage', 'not-a-token'],
      ['a bearer of three empty parts', '..'],
      ['alg none', unsigned({ alg: 'none', typ: 'JWT' })],
      ['alg none with the dev kid', unsigned({ alg: 'none', kid: signingKey.kid })],
      ['HS256 keyed with the public key (HS/RS confusion)', await sign({}, { alg: 'HS256' }, new TextEncoder().encode(JSON.stringify(publicKey)))],
      ['HS256 keyed with the public x coordinate', await sign({}, { alg: 'HS256' }, base64url.decode(publicKey.x!))],
      ['RS256 from a stranger key under the dev kid', await sign({}, { alg: 'RS256' }, strangerRsa)],
      ['ES256 from a stranger key under the dev kid', await sign({}, {}, strangerEc)],
      ['ES256 from a stranger key without kid', await sign({}, { kid: undefined }, strangerEc)],
      ['no kid, while two keys are trusted', await sign({}, { kid: undefined })],
      ['an unknown kid', await sign({}, { kid: 'unknown-kid' })],
      ['a wrong issuer', await sign({ iss: 'https://evil.example' })],
      ['no issuer', await sign({ iss: undefined })],
      ['a wrong audience', await sign({ aud: 'someone-else' })],
      ['no audience', await sign({ aud: undefined })],
      ['expired an hour ago', await sign({ exp: now - 3600 })],
      ['not before an hour from now', await sign({ nbf: now + 3600 })],
      ['issued an hour from now', await sign({ iat: now + 3600, exp: now + 7200 })],
      ['no subject', await sign({ sub: undefined })],
      ['an empty subject', await sign({ sub: '' })],
      ['a subject that is a number', await sign({ sub: 42 })],
      ['no expiry', await sign({ exp: undefined })],
      ['an expiry that is a string', await sign({ exp: String(now + 600) })],
      ['a tenant that is a list', await sign({ tenant: ['a', 'b'] })],
      ['no scope', await sign({ scope: undefined })],
      ['a scope that is a number', await sign({ scope: 7 })],
      ['a tampered payload', withSegment(valid, 1, encodeJson({ ...claims, scope: 'pinflow:operator pin:read pin:write' }))],
      ['a tampered signature', tampered(valid, 2)],
      ['a header that is not JSON', withSegment(valid, 0, base64url.encode('{'))],
    ];
    const writeOnly = await sign({ scope: PIN_WRITE_SCOPE });
    const readOnly = await sign({ scope: PIN_READ_SCOPE });
    const unknownRequest = randomUUID();
    const endpoints: Array<{ name: string; method: 'GET' | 'POST'; url: string; body?: string; wrongScope: string }> = [
      { name: 'intake write', method: 'POST', url: `${intake}/v1/pismo/cards/card-1/password-tries/increase`, body: '{"blockCardExceedsCounter":true}', wrongScope: readOnly },
      { name: 'intake status', method: 'GET', url: `${intake}/v1/requests/${unknownRequest}`, wrongScope: writeOnly },
      { name: 'audit request events', method: 'GET', url: `${audit}/v1/requests/${unknownRequest}/events`, wrongScope: writeOnly },
      { name: 'audit card events', method: 'GET', url: `${audit}/v1/cards/card-1/events`, wrongScope: writeOnly },
    ];
    const requests: HostileRequest[] = [];
    for (const endpoint of endpoints) {
      for (const [trick, token, authorization] of [...tokens, ['the wrong scope', endpoint.wrongScope] as [string, string]]) {
        requests.push({
          what: `${endpoint.name} with ${trick}`,
          method: endpoint.method,
          url: endpoint.url,
          headers: json(undefined, { 'idempotency-key': randomUUID(), ...(authorization ? { authorization } : token === undefined ? {} : { authorization: `Bearer ${token}` }) }),
          body: endpoint.body,
          secrets: token && token.length > 8 ? [token] : [],
        });
      }
    }
    await expectRefused('token tricks', requests);
    const codes = Object.keys(codesOf(answersByCategory['token tricks']));
    expect(codes.filter((code) => !/^40[13] /.test(code))).toEqual([]);
  });

  it("answers a read of another caller's request exactly as a read of an unknown one: 404, same body", async () => {
    const ownerToken = await suite.stack.secrets.token([PIN_WRITE_SCOPE, PIN_READ_SCOPE], { subject: OTHER_CALLER, tenant: 'tenant-owner' });
    const accepted = await http('POST', `${intake}/v1/pismo/cards/card-1/password-tries/increase`, { token: ownerToken, body: { blockCardExceedsCounter: false }, headers: { 'idempotency-key': randomUUID() } });
    expect(accepted.status).toBe(202);
    const ownRequest = accepted.body.requestId as string;
    expect((await http('GET', `${intake}/v1/requests/${ownRequest}`, { token: ownerToken })).status).toBe(200);

    const strangers = await Promise.all([
      suite.stack.secrets.token([PIN_READ_SCOPE], { subject: 'hostile-stranger', tenant: 'tenant-stranger' }),
      suite.stack.secrets.token([PIN_READ_SCOPE, PIN_WRITE_SCOPE], { subject: 'hostile-stranger-2', tenant: 'tenant-other' }),
      suite.stack.secrets.token([PIN_READ_SCOPE], { subject: 'hostile-stranger-3' }),
    ]);
    const unknownRequest = randomUUID();
    const paths = (requestId: string) => [`${intake}/v1/requests/${requestId}`, `${audit}/v1/requests/${requestId}/events`];
    const read = (url: string, token: string): HostileRequest => ({ what: `${url} as a stranger`, method: 'GET', url, headers: { authorization: `Bearer ${token}` }, secrets: [token] });
    const requests = strangers.flatMap((token) => [...paths(ownRequest), ...paths(unknownRequest)].map((url) => read(url, token)));
    await expectRefused("other callers' ids", requests);
    const answers = answersByCategory["other callers' ids"];
    const withoutIds = (answer: Answer) => ({ status: answer.status, body: answer.text.replaceAll(ownRequest, '<id>').replaceAll(unknownRequest, '<id>') });
    for (let stranger = 0; stranger < strangers.length; stranger++) {
      const [intakeOwn, auditOwn, intakeUnknown, auditUnknown] = answers.slice(stranger * 4, stranger * 4 + 4);
      expect(intakeOwn.status).toBe(404);
      expect(withoutIds(intakeOwn)).toEqual(withoutIds(intakeUnknown));
      expect(withoutIds(auditOwn)).toEqual(withoutIds(auditUnknown));
    }
  });

  it('refuses malformed, oversized, deeply nested and ill-headed bodies', async () => {
    const jwe = await encryptSecret('pin', '8351', pinKey);
    const deepArray = `{"encryptedPin":${'['.repeat(12_000)}${']'.repeat(12_000)}}`;
    const deepObject = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const bodies: Array<[string, string, Record<string, string>?]> = [
      ['deeply nested arrays', deepArray],
      ['deeply nested objects', deepObject],
      ['a nested object for the JWE', JSON.stringify({ encryptedPin: { encryptedPin: jwe } })],
      ['a __proto__ member', `{"encryptedPin":"${jwe}","__proto__":{"admin":true}}`],
      ['a constructor member', JSON.stringify({ encryptedPin: jwe, constructor: { prototype: { admin: true } } })],
      ['the JWE, then a broken one under the same name', `{"encryptedPin":"${jwe}","encryptedPin":"a.b.c.d.e"}`],
      ['an array body', JSON.stringify([{ encryptedPin: jwe }])],
      ['a string body', JSON.stringify(jwe)],
      ['null', 'null'],
      ['an empty body', ''],
      ['a clear PIN', JSON.stringify({ pin: '8351' })],
      ['a clear PIN and the JWE', JSON.stringify({ pin: '8351', encryptedPin: jwe })],
      ['a JWE of 40 kB', JSON.stringify({ encryptedPin: `${jwe}${'A'.repeat(40_000)}` })],
      ['a lone surrogate', `{"encryptedPin":"\\ud800${jwe}"}`],
      ['a NUL in the JWE', JSON.stringify({ encryptedPin: `${jwe}\u0000` })],
      ['trailing garbage', `{"encryptedPin":"${jwe}"}garbage`],
      ['text/plain', JSON.stringify({ encryptedPin: jwe }), { 'content-type': 'text/plain' }],
      ['form-encoded', `encryptedPin=${jwe}`, { 'content-type': 'application/x-www-form-urlencoded' }],
      ['multipart', `--x\r\n\r\n${jwe}\r\n--x--`, { 'content-type': 'multipart/form-data; boundary=x' }],
      ['charset utf-16', JSON.stringify({ encryptedPin: jwe }), { 'content-type': 'application/json; charset=utf-16' }],
      ['an empty Idempotency-Key', JSON.stringify({ encryptedPin: jwe }), { 'idempotency-key': '' }],
      ['an Idempotency-Key of 4 kB', JSON.stringify({ encryptedPin: jwe }), { 'idempotency-key': 'k'.repeat(4_000) }],
      ['an Idempotency-Key with a space', JSON.stringify({ encryptedPin: jwe }), { 'idempotency-key': 'a b' }],
      ['a traceparent of garbage and a clear PIN', JSON.stringify({ pin: '8351' }), { traceparent: 'zz-garbage-zz' }],
    ];
    const paths = ['/v1/pismo/cards/card-1/pin', '/v1/pismo/cards/card-1/offline-pin', '/v1/thales-d1/issuers/ISSUER0001/cards/card-1/pin', '/v1/vault/cards/4242/passcode'];
    const requests = paths.flatMap((path) => bodies.map(([what, body, headers]) => write(`${path} with ${what}`, path, body, [jwe, ...(what.includes('clear PIN') ? ['8351'] : [])], headers)));
    await expectRefused('malformed bodies and headers', requests);
  });

  it('answered every hostile request with a 4xx, published no command for its caller, and logged no error', async () => {
    // The one request accepted (another caller's) shows that the recorder does see what intake publishes.
    await waitFor('the command of the other caller', async () => messagesCausedBy(suite, OTHER_CALLER).length > 0, 30_000);
    const answers = Object.values(answersByCategory);
    process.stdout.write(`hostile answers per category: ${JSON.stringify(Object.fromEntries(Object.entries(answersByCategory).map(([category, answered]) => [category, codesOf(answered)])))}\n`);
    expect(answers.reduce((sum, answered) => sum + answered.length, 0)).toBeGreaterThanOrEqual(500);
    expect(messagesCausedBy(suite, HOSTILE_CALLER)).toEqual([]);
    expect(errorLogLines(suite.stack)).toEqual([]);
  });
});
