import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { encryptPasscode } from './passcode-encryption';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const oaep = (oaepHash: string) => (ciphertext: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, ciphertext);

/** Node refuses PKCS#1 v1.5 private decryption (CVE-2023-46809): unpad a raw decryption, as Vault's side would. */
function pkcs1Decrypt(ciphertext: Buffer): Buffer {
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  expect([block[0], block[1]]).toEqual([0, 2]);
  return block.subarray(block.indexOf(0, 2) + 1);
}

describe('encryptPasscode', () => {
  it.each([
    ['oaep-sha256', oaep('sha256')],
    ['oaep-sha1', oaep('sha1')],
    ['pkcs1', pkcs1Decrypt],
  ] as const)('encrypts the passcode digits as UTF-8 with %s, base64, one modulus long', (padding, decrypt) => {
    const passCode = encryptPasscode('0739', publicKey, padding);

    const ciphertext = Buffer.from(passCode, 'base64');
    expect(ciphertext.toString('base64')).toBe(passCode);
    expect(ciphertext).toHaveLength(256);
    expect(decrypt(ciphertext).toString('utf8')).toBe('0739');
  });

  it('hashes with SHA-256 for oaep-sha256: a SHA-1 OAEP decryption fails', () => {
    const ciphertext = Buffer.from(encryptPasscode('0739', publicKey, 'oaep-sha256'), 'base64');
    expect(() => oaep('sha1')(ciphertext)).toThrow();
  });

  it('never gives the same ciphertext twice for the same passcode', () => {
    for (const padding of ['oaep-sha256', 'oaep-sha1', 'pkcs1'] as const) {
      expect(encryptPasscode('0739', publicKey, padding)).not.toBe(encryptPasscode('0739', publicKey, padding));
    }
  });
});
