import type { CryptoKey } from 'jose';
import { constants, createCipheriv, createDecipheriv, createPublicKey, KeyObject, privateDecrypt, publicEncrypt, randomBytes, type webcrypto } from 'node:crypto';

/**
 * The compact JWE (RFC 7516) of the one algorithm pair pinflow seals with, RSA-OAEP-256 and A256GCM,
 * on node:crypto: every PIN change opens one in intake and seals one that its worker opens (mostly
 * without an RSA operation: see {@link SharedContentKeys}).
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

/** A CEK and its RSA-OAEP-256 wrapping for one recipient: the second part of each JWE sealed under it. */
interface ContentKey {
  cek: Buffer;
  encryptedKey: string;
}

function freshContentKey(recipient: KeyObject): ContentKey {
  const cek = randomBytes(CEK_BYTES);
  return { cek, encryptedKey: publicEncrypt({ key: recipient, ...OAEP_SHA256 }, cek).toString('base64url') };
}

/**
 * One CEK per recipient, shared by the JWEs a process seals to it until `maxSeals` of them or
 * `maxAgeMs` have gone by; then it is zeroed and a fresh one drawn. The recipient unwraps a CEK it
 * has seen before from memory ({@link OpenedContentKeys}): its RSA private operation, ~0.5 ms and
 * the largest single cost of a worker's PIN change, then runs once per CEK instead of once per JWE.
 *
 * What still holds: each JWE gets its own random 96-bit IV, and its protected header (kid, and for
 * a command the card, the command and the expiry) is GCM's additional data, so a header, ciphertext
 * or tag moved from one JWE to another sharing its CEK fails the tag check. At ≤ `maxSeals` JWEs per
 * CEK the odds of two IVs colliding are below n²/2⁹⁷ (NIST SP 800-38D allows 2³² random IVs per key).
 * What changes: a CEK, if it leaked, opens up to `maxSeals` JWEs instead of one. A CEK lives only in
 * the memory of the sealer and the recipient, which hold the clear secrets while they work and, the
 * recipient, the private key that opens every JWE sealed to it.
 */
export class SharedContentKeys {
  private readonly current = new WeakMap<KeyObject, { key: ContentKey; seals: number; expiry: NodeJS.Timeout }>();

  constructor(
    private readonly maxSeals: number,
    private readonly maxAgeMs: number,
  ) {}

  /** The CEK to seal one more JWE to `recipient` under. */
  take(recipient: KeyObject): ContentKey {
    const shared = this.current.get(recipient);
    if (shared && shared.seals < this.maxSeals) {
      shared.seals += 1;
      return shared.key;
    }
    if (shared) this.retire(recipient);
    const key = freshContentKey(recipient);
    // Unref'd: a process with nothing left to do does not wait for a CEK to age.
    const expiry = setTimeout(() => this.retire(recipient), this.maxAgeMs).unref();
    this.current.set(recipient, { key, seals: 1, expiry });
    return key;
  }

  private retire(recipient: KeyObject): void {
    const shared = this.current.get(recipient);
    if (!shared) return;
    clearTimeout(shared.expiry);
    shared.key.cek.fill(0);
    this.current.delete(recipient);
  }
}

/**
 * The CEKs a recipient has unwrapped, by private key and encrypted key, for `ttlMs` after it first
 * opened a JWE with each; at most `maxKeys` (the oldest goes first). Only a CEK whose JWE passed the
 * tag check is kept, so a forged encrypted key costs its own RSA operation every time and never
 * displaces a real one for long. Zeroed when dropped.
 */
export class OpenedContentKeys {
  private readonly keys = new Map<string, { privateKey: KeyObject; cek: Buffer; expiry: NodeJS.Timeout }>();

  constructor(
    private readonly maxKeys: number,
    private readonly ttlMs: number,
  ) {}

  get(privateKey: KeyObject, encryptedKey: string): Buffer | undefined {
    const opened = this.keys.get(encryptedKey);
    return opened?.privateKey === privateKey ? opened.cek : undefined;
  }

  /** Keeps `cek`, which is now this cache's to zero. */
  keep(privateKey: KeyObject, encryptedKey: string, cek: Buffer): void {
    this.drop(encryptedKey);
    if (this.keys.size >= this.maxKeys) this.drop(this.keys.keys().next().value!);
    const expiry = setTimeout(() => this.drop(encryptedKey), this.ttlMs).unref();
    this.keys.set(encryptedKey, { privateKey, cek, expiry });
  }

  private drop(encryptedKey: string): void {
    const opened = this.keys.get(encryptedKey);
    if (!opened) return;
    clearTimeout(opened.expiry);
    opened.cek.fill(0);
    this.keys.delete(encryptedKey);
  }
}

/**
 * Seals `plaintext` to `recipient` under `protectedHeader`, which must name alg RSA-OAEP-256 and enc
 * A256GCM: under a CEK of its own, or under the current one of `shared`.
 */
export function sealRsaOaepA256Gcm(protectedHeader: Record<string, unknown>, plaintext: Uint8Array, recipient: RsaPublicJwk, shared?: SharedContentKeys): string {
  const encodedHeader = Buffer.from(JSON.stringify(protectedHeader)).toString('base64url');
  const { cek, encryptedKey } = shared ? shared.take(publicKeyOf(recipient)) : freshContentKey(publicKeyOf(recipient));
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(encodedHeader, 'ascii'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [encodedHeader, encryptedKey, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  } finally {
    if (!shared) cek.fill(0);
  }
}

/**
 * Opens a compact JWE whose protected header the caller has read and found to name alg RSA-OAEP-256
 * and enc A256GCM; throws {@link CompactJweError}. With `opened`, a CEK unwrapped before is taken
 * from it, and one unwrapped now is kept there. The plaintext is the caller's to wipe.
 */
export function openRsaOaepA256Gcm(jwe: string, privateKey: CryptoKey, opened?: OpenedContentKeys): Buffer {
  const parts = jwe.split('.');
  if (parts.length !== 5 || !parts.every((part, index) => (index === 1 || index === 3 ? BASE64URL_OR_EMPTY : BASE64URL).test(part))) throw new CompactJweError('MALFORMED');
  const [encodedHeader, encryptedKey, iv, ciphertext, tag] = [parts[0], ...parts.slice(1).map((part) => Buffer.from(part, 'base64url'))] as [string, ...Buffer[]];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CompactJweError('MALFORMED');
  const key = privateKeyOf(privateKey);
  const known = opened?.get(key, parts[1]);
  const cek = known ?? contentKey(encryptedKey, key);
  let kept = known !== undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(encodedHeader, 'ascii')).setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    if (opened && !kept) {
      opened.keep(key, parts[1], cek);
      kept = true;
    }
    return plaintext;
  } catch {
    throw new CompactJweError('DECRYPTION_FAILED');
  } finally {
    if (!kept) cek.fill(0);
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
