import { calculateJwkThumbprint, CompactEncrypt, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose';
import { VendorError } from '@pinflow/sandbox-kit';
import { createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

// D1's convention for sensitive data: compact JWE, ECDH-ES key agreement on P-256, A256GCM content
// encryption, and the recipient's key named by `kid`.
export const D1_JWE_ALG = 'ECDH-ES';
export const D1_JWE_ENC = 'A256GCM';

/** A P-256 public key in JWK form, as the parties exchange them at onboarding. */
export interface D1PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof D1_JWE_ALG;
  use: 'enc';
}

async function publicJwkOf(jwk: JWK, kid?: string): Promise<D1PublicJwk> {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || x === undefined || y === undefined) throw new RangeError('not a P-256 public key');
  return { kty: 'EC', crv: 'P-256', x, y, kid: kid ?? (await calculateJwkThumbprint({ kty, crv, x, y })), alg: D1_JWE_ALG, use: 'enc' };
}

const invalidJwe = (message: string) => new VendorError(400, 'INVALID_ENCRYPTED_PIN_BLOCK', message);

const KEY_BITS = 256;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A Concat KDF field (RFC 7518 4.6.2): its length as a 32-bit big-endian integer, then its bytes. */
function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The content key ECDH-ES agrees on for `enc` (RFC 7518 4.6): one round of the Concat KDF with SHA-256. */
function agreedKey(sharedSecret: Buffer, header: Record<string, unknown>): Buffer {
  const partyInfo = (value: unknown) => lengthPrefixed(typeof value === 'string' ? Buffer.from(value, 'base64url') : Buffer.alloc(0));
  const keyBits = Buffer.alloc(4);
  keyBits.writeUInt32BE(KEY_BITS);
  const round = Buffer.alloc(4);
  round.writeUInt32BE(1);
  return createHash('sha256')
    .update(round)
    .update(sharedSecret)
    .update(lengthPrefixed(Buffer.from(D1_JWE_ENC, 'ascii')))
    .update(partyInfo(header.apu))
    .update(partyInfo(header.apv))
    .update(keyBits)
    .digest();
}

/**
 * ECDH-ES key agreement and A256GCM decryption (RFC 7518 4.6 and 5.3) with node:crypto: jose 6 goes
 * through WebCrypto, whose asynchronous jobs per JWE cost several times the key agreement itself.
 * Throws on any failure, an ephemeral key off the curve or an altered JWE included.
 */
function openCompactJwe(jwe: string, header: Record<string, unknown>, privateKey: KeyObject): Buffer {
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = jwe.split('.');
  const { kty, crv, x, y } = (header.epk ?? {}) as JWK;
  if (encryptedKey !== '' || kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') throw new Error('not a direct ECDH-ES agreement on P-256');
  const [ivBytes, tagBytes] = [Buffer.from(iv, 'base64url'), Buffer.from(tag, 'base64url')];
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error('wrong IV or tag length');
  const ephemeralKey = createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' });
  const decipher = createDecipheriv('aes-256-gcm', agreedKey(diffieHellman({ privateKey, publicKey: ephemeralKey }), header), ivBytes);
  decipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
}

/**
 * The CMS's encryption key pair, which D1 encrypts PIN blocks to. Generated at start-up and held only
 * in memory; its `kid` is the RFC 7638 thumbprint of the public key.
 */
export class CmsEncryptionKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicJwk: D1PublicJwk,
  ) {}

  static async generate(): Promise<CmsEncryptionKey> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new CmsEncryptionKey(privateKey, await publicJwkOf(publicKey.export({ format: 'jwk' })));
  }

  /** Decrypts a JWE sent to this key; refusals say which rule failed, never quote the input. */
  decrypt(jwe: string): string {
    let header: Record<string, unknown>;
    try {
      if (jwe.split('.').length !== 5) throw new Error('not five parts');
      header = decodeProtectedHeader(jwe);
    } catch {
      throw invalidJwe('encryptedPinBlock is not a compact JWE');
    }
    if (header.kid !== this.publicJwk.kid) throw invalidJwe("encryptedPinBlock must name the CMS's encryption key in its kid header");
    try {
      if (header.alg !== D1_JWE_ALG || header.enc !== D1_JWE_ENC || header.zip !== undefined || header.crit !== undefined) throw new Error('another algorithm');
      return new TextDecoder('utf-8', { fatal: true }).decode(openCompactJwe(jwe, header, this.privateKey));
    } catch {
      throw invalidJwe(`encryptedPinBlock could not be decrypted: it must be a ${D1_JWE_ALG}/${D1_JWE_ENC} JWE to the CMS's key, untampered`);
    }
  }
}

/** D1's public key, which the CMS encrypts the PIN blocks it answers with to. */
export class CallerKey {
  private current?: { key: CryptoKey | Uint8Array; jwk: D1PublicJwk };

  /** Takes a P-256 public JWK; a JWK without `kid` is named by its thumbprint. */
  async register(jwk: JWK): Promise<D1PublicJwk> {
    const publicJwk = await publicJwkOf(jwk, jwk.kid);
    this.current = { key: await importJWK(publicJwk, D1_JWE_ALG), jwk: publicJwk };
    return publicJwk;
  }

  get registered(): D1PublicJwk | undefined {
    return this.current?.jwk;
  }

  async encrypt(plaintext: string): Promise<string> {
    if (!this.current) throw new VendorError(500, 'CALLER_KEY_MISSING', "No D1 public key was exchanged with the CMS, so it cannot encrypt D1's PIN block");
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: D1_JWE_ALG, enc: D1_JWE_ENC, kid: this.current.jwk.kid })
      .encrypt(this.current.key);
  }
}
