import type { CryptoKey } from 'jose';
import { constants, createCipheriv, createDecipheriv, createPublicKey, KeyObject, privateDecrypt, publicEncrypt, randomBytes, type webcrypto } from 'node:crypto';

/**
 * The compact JWE (RFC 7516) of the one algorithm pair pinflow seals with, RSA-OAEP-256 and A256GCM,
 * on node:crypto: every PIN change opens one twice (intake, then its worker) and seals one.
 *
 * Not jose, which pinflow uses for every other JOSE operation: jose 6 runs each operation through
 * WebCrypto, and Node 20's WebCrypto hands every RSA and AES operation to the libuv thread pool and
 * waits for the answer on the event loop (nodejs/node#63595, a work in progress that tried running
 * small ones synchronously, was closed unmerged). Measured with jose 6.2.18 on a 2-core VM, CPU per
 * operation, 16 at once: opening 399–406 µs against 264–268 µs here, sealing 146–151 µs against
 * 47–57 µs; one at a time the gap is wider (469–535 against 268–283, 181–302 against 58–76), as each
 * hand-off wakes a thread. The checks are jose's for this pair (part sizes, the 96-bit IV, the 128-bit
 * tag, a random CEK when the RSA step fails so that a bad key and a bad tag look alike), and the tests
 * hold the two against each other both ways.
 */

const OAEP_SHA256 = { oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING } as const;
const CEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** jose's floor for RSA-OAEP keys, and the PIN key ring's. */
const MIN_MODULUS_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The ciphertext of an empty plaintext is empty; an empty encrypted key fails like a wrong one, as in jose. */
const BASE64URL_OR_EMPTY = /^[A-Za-z0-9_-]*$/;

export type CompactJweRefusal = 'MALFORMED' | 'DECRYPTION_FAILED';

/** Why a compact JWE would not open; the message is fixed text, never the input. */
export class CompactJweError extends Error {
  constructor(readonly code: CompactJweRefusal) {
    super(code === 'MALFORMED' ? 'not a well-formed RSA-OAEP-256 / A256GCM compact JWE' : 'the JWE does not open with this key');
  }
}

/** The public part of an RSA JWK, as pinflow's PIN keys are published. */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
}

// Keys are converted once: a JWK or CryptoKey object stands for the same key as long as it lives.
const publicKeys = new WeakMap<RsaPublicJwk, KeyObject>();
const privateKeys = new WeakMap<CryptoKey, KeyObject>();

function publicKeyOf(jwk: RsaPublicJwk): KeyObject {
  let key = publicKeys.get(jwk);
  if (!key) {
    key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) throw new TypeError(`an RSA-OAEP-256 key must have at least ${MIN_MODULUS_BITS} bits`);
    publicKeys.set(jwk, key);
  }
  return key;
}

function privateKeyOf(cryptoKey: CryptoKey): KeyObject {
  let key = privateKeys.get(cryptoKey);
  if (!key) {
    const { name, hash } = cryptoKey.algorithm as webcrypto.RsaHashedKeyAlgorithm;
    if (cryptoKey.type !== 'private' || name !== 'RSA-OAEP' || hash.name !== 'SHA-256') throw new TypeError('the key is not an RSA-OAEP-256 private key');
    key = KeyObject.from(cryptoKey);
    privateKeys.set(cryptoKey, key);
  }
  return key;
}

/** Seals `plaintext` to `recipient` under `protectedHeader`, which must name alg RSA-OAEP-256 and enc A256GCM. */
export function sealRsaOaepA256Gcm(protectedHeader: Record<string, unknown>, plaintext: Uint8Array, recipient: RsaPublicJwk): string {
  const encodedHeader = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url');
  const cek = randomBytes(CEK_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const encryptedKey = publicEncrypt({ key: publicKeyOf(recipient), ...OAEP_SHA256 }, cek);
    const cipher = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(encodedHeader, 'ascii'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [encodedHeader, encryptedKey, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  } finally {
    cek.fill(0);
  }
}

/**
 * Opens a compact JWE whose protected header the caller has read and found to name alg RSA-OAEP-256
 * and enc A256GCM; throws {@link CompactJweError}. The plaintext is the caller's to wipe.
 */
export function openRsaOaepA256Gcm(jwe: string, privateKey: CryptoKey): Buffer {
  const parts = jwe.split('.');
  if (parts.length !== 5 || !parts.every((part, index) => (index === 1 || index === 3 ? BASE64URL_OR_EMPTY : BASE64URL).test(part))) throw new CompactJweError('MALFORMED');
  const [encodedHeader, encryptedKey, iv, ciphertext, tag] = [parts[0], ...parts.slice(1).map((part) => Buffer.from(part, 'base64url'))] as [string, ...Buffer[]];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CompactJweError('MALFORMED');
  const cek = contentKey(encryptedKey, privateKeyOf(privateKey));
  try {
    const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(encodedHeader, 'ascii')).setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new CompactJweError('DECRYPTION_FAILED');
  } finally {
    cek.fill(0);
  }
}

/** The CEK, or a random one when the RSA step fails or yields a wrong size, so the tag check fails the same way (RFC 7516 §11.5). */
function contentKey(encryptedKey: Buffer, privateKey: KeyObject): Buffer {
  try {
    const cek = privateDecrypt({ key: privateKey, ...OAEP_SHA256 }, encryptedKey);
    if (cek.length === CEK_BYTES) return cek;
    cek.fill(0);
  } catch {
    // Falls through to the random CEK.
  }
  return randomBytes(CEK_BYTES);
}
