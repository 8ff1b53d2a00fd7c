import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { RSA_PADDINGS, rsaDecrypt, RsaKeyRing, RsaPadding } from './rsa-keys';

const ENCRYPTION: Record<RsaPadding, { padding: number; oaepHash?: string }> = {
  'oaep-sha256': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
  'oaep-sha1': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
  pkcs1: { padding: constants.RSA_PKCS1_PADDING },
};

describe('RsaKeyRing', () => {
  let ring: RsaKeyRing;
  beforeAll(async () => {
    ring = await RsaKeyRing.generate(2048);
  });

  function encrypt(plain: string, padding: RsaPadding): Buffer {
    const key = createPublicKey({ key: Buffer.from(ring.publicKey.publicKey, 'base64'), format: 'der', type: 'spki' });
    return publicEncrypt({ key, ...ENCRYPTION[padding] }, Buffer.from(plain));
  }

  it('publishes its public key as base64 DER SubjectPublicKeyInfo of the size asked for', () => {
    const key = createPublicKey({ key: Buffer.from(ring.publicKey.publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it.each(RSA_PADDINGS)('decrypts what was encrypted to its public key with %s', (padding) => {
    const privateKey = ring.privateKeyFor(ring.publicKey.id)!;
    expect(rsaDecrypt(privateKey, encrypt('4821', padding), padding).toString()).toBe('4821');
  });

  it('fails to decrypt with a padding other than the one used', () => {
    const privateKey = ring.privateKeyFor(ring.publicKey.id)!;
    expect(() => rsaDecrypt(privateKey, encrypt('4821', 'oaep-sha1'), 'oaep-sha256')).toThrow();
    expect(() => rsaDecrypt(privateKey, encrypt('4821', 'oaep-sha256'), 'pkcs1')).toThrow();
  });

  it('replaces its key on rotation: the old id no longer finds a key', async () => {
    const before = ring.publicKey;
    const after = await ring.rotate();
    expect(after.id).not.toBe(before.id);
    expect(after.publicKey).not.toBe(before.publicKey);
    expect(ring.privateKeyFor(before.id)).toBeUndefined();
    expect(ring.privateKeyFor(after.id)).toBeDefined();
    expect(ring.privateKeyFor('made-up')).toBeUndefined();
  });
});
