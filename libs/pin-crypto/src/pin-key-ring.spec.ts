import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { decryptPin, encryptPin } from './pin-jwe';
import { generatePinKeyRing, PinKeyRing, writePinKeyRingFile, type PrivatePinJwk } from './pin-key-ring';

let ring: PinKeyRing;
let privateJwk: PrivatePinJwk;
let otherJwk: PrivatePinJwk;

beforeAll(async () => {
  ring = await generatePinKeyRing();
  [privateJwk] = ring.toPrivateJwks().keys;
  [otherJwk] = (await generatePinKeyRing()).toPrivateJwks().keys;
});

async function loadError(load: () => Promise<PinKeyRing>): Promise<Error> {
  const error: unknown = await load().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof Error)) throw new Error('expected loading the key ring to fail');
  return error;
}

describe('generatePinKeyRing', () => {
  it('creates a single RSA-2048 key with a fresh kid that is the current key', async () => {
    const other = await generatePinKeyRing();

    expect(ring.kids).toEqual([ring.currentKid]);
    expect(ring.currentKid).not.toBe(other.currentKid);
    expect(Buffer.from(privateJwk.n, 'base64url')).toHaveLength(256);
  });

  it('creates an RSA-3072 key on request', async () => {
    const strong = await generatePinKeyRing({ modulusLength: 3072 });

    expect(Buffer.from(strong.currentPublicJwk.n, 'base64url')).toHaveLength(384);
  });
});

describe('publicJwks', () => {
  it('publishes only the public members of every key, current first', async () => {
    const older = await generatePinKeyRing();
    const rotated = await PinKeyRing.fromJwks({ keys: [privateJwk, ...older.toPrivateJwks().keys] });

    expect(rotated.publicJwks()).toEqual({
      keys: [ring.currentKid, older.currentKid].map((kid) => ({
        kty: 'RSA',
        n: expect.any(String),
        e: 'AQAB',
        kid,
        use: 'enc',
        alg: 'RSA-OAEP-256',
      })),
    });
  });
});

describe('loading a key ring', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pin-key-ring-'));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads back a written JWKS file, readable by its owner only', async () => {
    const file = path.join(dir, 'nested', 'pin-keys.json');
    await writePinKeyRingFile(file, ring);

    const loaded = await PinKeyRing.fromFile(file);

    expect(loaded.currentKid).toBe(ring.currentKid);
    expect(await decryptPin(await encryptPin('8264', ring), loaded)).toBe('8264');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('reads a JWKS held in an environment string', async () => {
    const loaded = await PinKeyRing.fromJson(JSON.stringify(ring.toPrivateJwks()), 'PIN_KEYS_JSON');

    expect(await decryptPin(await encryptPin('8264', ring), loaded)).toBe('8264');
  });

  it('accepts JWKs that carry extra standard members such as key_ops', async () => {
    const loaded = await PinKeyRing.fromJwks({ keys: [{ ...privateJwk, key_ops: ['decrypt'], ext: true }] });

    expect(loaded.currentKid).toBe(privateJwk.kid);
  });

  const rejections: Array<[string, () => unknown, RegExp]> = [
    ['a public key without private members', () => ({ keys: [ring.currentPublicJwk] }), /PIN_KEYS: jwks\.keys\.0\.d: /],
    ['a key without kid', () => ({ keys: [{ ...privateJwk, kid: undefined }] }), /jwks\.keys\.0\.kid: /],
    ['an EC key', () => ({ keys: [{ ...privateJwk, kty: 'EC' }] }), /jwks\.keys\.0\.kty: /],
    ['a key meant for signatures', () => ({ keys: [{ ...privateJwk, use: 'sig' }] }), /jwks\.keys\.0\.use: /],
    ['an empty key set', () => ({ keys: [] }), /jwks\.keys: /],
    ['two keys with the same kid', () => ({ keys: [privateJwk, privateJwk] }), /every key needs a distinct kid/],
    [
      'an RSA-1024 key',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
        return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'weak' }] };
      },
      /RSA modulus must be at least 2048 bits/,
    ],
    [
      'a key whose private half does not match its public half',
      () => ({ keys: [{ ...privateJwk, d: otherJwk.d, p: otherJwk.p, q: otherJwk.q }] }),
      /key pin-\S+ does not decrypt what its public half encrypts/,
    ],
  ];

  it.each(rejections)('rejects %s with a message naming the problem', async (_, jwks, message) => {
    const error = await loadError(() => PinKeyRing.fromJwks(jwks(), 'PIN_KEYS'));

    expect(error.message).toMatch(message);
  });

  it.each(rejections)('never echoes private key material when rejecting %s', async (_, jwks) => {
    const error = await loadError(() => PinKeyRing.fromJwks(jwks(), 'PIN_KEYS'));

    for (const secret of [privateJwk.d, privateJwk.p, privateJwk.q, otherJwk.d]) expect(error.message).not.toContain(secret.slice(0, 16));
  });

  it('rejects text that is not JSON without quoting it', async () => {
    const truncated = JSON.stringify(ring.toPrivateJwks()).slice(0, -10);

    const error = await loadError(() => PinKeyRing.fromJson(truncated, 'PIN_KEYS_JSON'));

    expect(error.message).toBe('Invalid PIN_KEYS_JSON: not valid JSON');
  });
});

describe('a loaded key ring', () => {
  it('keeps private key material out of JSON and inspection output', () => {
    for (const rendered of [JSON.stringify(ring), inspect(ring, { depth: 10 })]) {
      expect(rendered).not.toContain(privateJwk.d.slice(0, 16));
      expect(rendered).toContain(ring.currentKid);
    }
  });
});

describe('retiring keys (notAfter)', () => {
  const past = () => new Date(Date.now() - 1000).toISOString();
  const future = () => new Date(Date.now() + 3_600_000).toISOString();

  it('keeps a retiring key decrypting and published until its notAfter, and neither after', async () => {
    const retiring = await PinKeyRing.fromJwks({ keys: [otherJwk, { ...privateJwk, notAfter: future() }] });
    const retired = await PinKeyRing.fromJwks({ keys: [otherJwk, { ...privateJwk, notAfter: past() }] });
    const sealed = await encryptPin('8264', ring);

    expect(await decryptPin(sealed, retiring)).toBe('8264');
    expect(retiring.publicJwks().keys.map((key) => key.kid)).toEqual([otherJwk.kid, privateJwk.kid]);
    await expect(decryptPin(sealed, retired)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    expect(retired.publicJwks().keys.map((key) => key.kid)).toEqual([otherJwk.kid]);
  });

  it('refuses a ring whose current key is retired, or a notAfter that is no ISO 8601 time with offset', async () => {
    expect((await loadError(() => PinKeyRing.fromJwks({ keys: [{ ...privateJwk, notAfter: future() }, otherJwk] }))).message).toMatch(/the first key is the current one and cannot be retired/);
    expect((await loadError(() => PinKeyRing.fromJwks({ keys: [otherJwk, { ...privateJwk, notAfter: 'tomorrow' }] }))).message).toMatch(/^Invalid PIN key ring: jwks\.keys\.1\.notAfter: /);
  });

  it('rotates to a successor that becomes current, retiring the keys it replaces by the given time without postponing an earlier retirement', async () => {
    const earlier = new Date(Date.now() + 60_000);
    const later = new Date(Date.now() + 3_600_000);
    const successor = await generatePinKeyRing();
    const retiringAlready = await PinKeyRing.fromJwks({ keys: [otherJwk, { ...privateJwk, notAfter: earlier.toISOString() }] });

    const rotated = await retiringAlready.withSuccessor(successor, later);

    expect(rotated.currentKid).toBe(successor.currentKid);
    expect(rotated.toPrivateJwks().keys.map(({ kid, notAfter }) => [kid, notAfter])).toEqual([
      [successor.currentKid, undefined],
      [otherJwk.kid, later.toISOString()],
      [privateJwk.kid, earlier.toISOString()],
    ]);
  });
});
