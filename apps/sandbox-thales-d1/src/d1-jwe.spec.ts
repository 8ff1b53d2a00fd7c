import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { CallerKey, CmsEncryptionKey, D1PublicJwk } from './d1-jwe';

const PLAINTEXT = '{"format":"ISO0","pinBlock":"0412AC89ABCDEF67"}';

/** Encrypts to the public key, with whatever header the case needs (the key's alg would veto other algorithms). */
function encryptTo({ kty, crv, x, y, kid }: D1PublicJwk, header: Record<string, string | undefined> = {}): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(PLAINTEXT)).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid, ...header }).encrypt({ kty, crv, x, y });
}

describe("the CMS's encryption key", () => {
  let cms: CmsEncryptionKey;

  beforeAll(async () => {
    cms = await CmsEncryptionKey.generate();
  });

  it('publishes a P-256 public JWK for ECDH-ES, named by its thumbprint, without its private part', () => {
    expect(cms.publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.stringMatching(/^[\w-]{43}$/), alg: 'ECDH-ES', use: 'enc' });
    expect(cms.publicJwk).not.toHaveProperty('d');
  });

  it('decrypts an ECDH-ES/A256GCM JWE sent to it', async () => {
    expect(cms.decrypt(await encryptTo(cms.publicJwk))).toBe(PLAINTEXT);
  });

  it('decrypts one whose key agreement names the parties (apu, apv)', async () => {
    const { kty, crv, x, y, kid } = cms.publicJwk;
    const jwe = await new CompactEncrypt(new TextEncoder().encode(PLAINTEXT))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid })
      .setKeyManagementParameters({ apu: new TextEncoder().encode('Thales D1'), apv: new TextEncoder().encode('CMS') })
      .encrypt({ kty, crv, x, y });
    expect(cms.decrypt(jwe)).toBe(PLAINTEXT);
  });

  it.each([
    ['no kid', async () => encryptTo(cms.publicJwk, { kid: undefined })],
    ['another kid', async () => encryptTo(cms.publicJwk, { kid: 'someone-else' })],
    ['key wrapping instead of direct agreement', async () => encryptTo(cms.publicJwk, { alg: 'ECDH-ES+A256KW' })],
    ['another content encryption', async () => encryptTo(cms.publicJwk, { enc: 'A128GCM' })],
    ['a tampered ciphertext', async () => (await encryptTo(cms.publicJwk)).replace(/\.([^.])([^.]*)\.([^.]*)$/, (_all, first: string, rest: string, tag: string) => `.${first === 'A' ? 'B' : 'A'}${rest}.${tag}`)],
    ['something else than a JWE', async () => 'not-a-jwe'],
  ])('refuses a JWE with %s as INVALID_ENCRYPTED_PIN_BLOCK', async (_case, jwe) => {
    const encrypted = await jwe();
    expect(() => cms.decrypt(encrypted)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_ENCRYPTED_PIN_BLOCK' }));
  });
});

describe("D1's registered key", () => {
  it('receives JWEs it can decrypt, naming its kid, or its thumbprint when it has none', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    const caller = new CallerKey();
    const { kid: _none, ...withoutKid } = await exportJWK(publicKey);

    const named = await caller.register({ ...(await exportJWK(publicKey)), kid: 'd1-2026' });
    const toNamed = await caller.encrypt(PLAINTEXT);
    const unnamed = await caller.register(withoutKid);
    const toUnnamed = await caller.encrypt(PLAINTEXT);

    expect(named.kid).toBe('d1-2026');
    expect(decodeProtectedHeader(toNamed)).toEqual({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'd1-2026', epk: expect.any(Object) });
    expect(decodeProtectedHeader(toUnnamed).kid).toBe(unnamed.kid);
    expect(unnamed.kid).toMatch(/^[\w-]{43}$/);
    expect(new TextDecoder().decode((await compactDecrypt(toUnnamed, privateKey)).plaintext)).toBe(PLAINTEXT);
  });

  it('is required before anything is encrypted to it', async () => {
    await expect(new CallerKey().encrypt(PLAINTEXT)).rejects.toMatchObject({ status: 500, code: 'CALLER_KEY_MISSING' });
  });
});
