import { constants, generateKeyPair, KeyObject, privateDecrypt, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * How `passCode` is encrypted. Vault does not document it: RSA-OAEP with SHA-256 is the default, the
 * others are there to match a client that turns out to use them.
 */
export const RSA_PADDINGS = ['oaep-sha256', 'oaep-sha1', 'pkcs1'] as const;
export type RsaPadding = (typeof RSA_PADDINGS)[number];

/** What `GET /v2/card/rsa-public-key` answers: the key's id and its base64 DER SubjectPublicKeyInfo. */
export interface PublicKeyView {
  id: string;
  publicKey: string;
}

interface RsaKey extends PublicKeyView {
  privateKey: KeyObject;
}

const generateRsa = promisify(generateKeyPair);

async function generateKey(modulusBits: number): Promise<RsaKey> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: modulusBits });
  return { id: randomUUID(), publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), privateKey };
}

/**
 * Removes PKCS#1 v1.5 encryption padding: 0x00 0x02, at least eight non-zero bytes, 0x00, message.
 * Node 20 refuses this padding for private decryption (CVE-2023-46809, the Marvin timing attack); the
 * sandbox's keys are throwaway and protect nothing real, so it unpads a raw decryption itself.
 */
function pkcs1Unpad(block: Buffer): Buffer {
  const separator = block.indexOf(0, 2);
  if (block[0] !== 0 || block[1] !== 2 || separator < 10) throw new Error('not a PKCS#1 v1.5 encryption block');
  return block.subarray(separator + 1);
}

export function rsaDecrypt(privateKey: KeyObject, ciphertext: Buffer, padding: RsaPadding): Buffer {
  switch (padding) {
    case 'oaep-sha256':
    case 'oaep-sha1':
      return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding === 'oaep-sha256' ? 'sha256' : 'sha1' }, ciphertext);
    case 'pkcs1':
      return pkcs1Unpad(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext));
  }
}

/**
 * The sandbox's one RSA key pair for passcodes, made at start. Rotating it replaces it: the old id is
 * refused from then on, so a client holding it must fetch the new key.
 */
export class RsaKeyRing {
  private constructor(
    private readonly modulusBits: number,
    private current: RsaKey,
  ) {}

  static async generate(modulusBits: number): Promise<RsaKeyRing> {
    return new RsaKeyRing(modulusBits, await generateKey(modulusBits));
  }

  get publicKey(): PublicKeyView {
    return { id: this.current.id, publicKey: this.current.publicKey };
  }

  /** The private key of the current key pair, if `id` names it. */
  privateKeyFor(id: string): KeyObject | undefined {
    return id === this.current.id ? this.current.privateKey : undefined;
  }

  async rotate(): Promise<PublicKeyView> {
    this.current = await generateKey(this.modulusBits);
    return this.publicKey;
  }
}
