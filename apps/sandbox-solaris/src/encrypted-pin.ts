import { constants, createDecipheriv, createHmac, type KeyObject, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { PinKey } from './pin-keys';
import { solarisError } from './solaris-http';

const ALG = 'RSA-OAEP-256';
const ENC = 'A256CBC-HS512';
/** A256CBC-HS512's key: an HMAC-SHA-512 key, then an AES-256 key (RFC 7518 5.2.2.1). */
const KEY_HALF_BYTES = 32;
const TAG_BYTES = 32;

const undecryptable = (predicate: string) => solarisError('validation_error', `encrypted_pin ${predicate}`, 'encrypted_pin');

function headerOf(encryptedPin: string): Record<string, unknown> {
  if (encryptedPin.split('.').length !== 5) throw undecryptable('is not a JWE in compact serialization');
  try {
    return decodeProtectedHeader(encryptedPin);
  } catch {
    throw undecryptable('is not a JWE in compact serialization');
  }
}

/**
 * RSA-OAEP-256 key decryption and A256CBC-HS512 authenticated decryption (RFC 7518 4.3 and 5.2), with
 * node:crypto: jose 6 goes through WebCrypto, whose half a dozen asynchronous jobs per JWE cost three
 * times the RSA decryption itself. Throws on any failure, a forged or altered JWE included.
 */
function openCompactJwe(encryptedPin: string, privateKey: KeyObject): Buffer {
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = encryptedPin.split('.').map((part, index) => (index === 0 ? Buffer.from(part, 'ascii') : Buffer.from(part, 'base64url')));
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encryptedKey);
  if (key.length !== 2 * KEY_HALF_BYTES || tag.length !== TAG_BYTES) throw new Error('wrong key or tag length');
  const aadBits = Buffer.alloc(8);
  aadBits.writeBigUInt64BE(BigInt(protectedHeader.length * 8));
  const expectedTag = createHmac('sha512', key.subarray(0, KEY_HALF_BYTES)).update(protectedHeader).update(iv).update(ciphertext).update(aadBits).digest().subarray(0, TAG_BYTES);
  if (!timingSafeEqual(expectedTag, tag)) throw new Error('authentication tag mismatch');
  const decipher = createDecipheriv('aes-256-cbc', key.subarray(KEY_HALF_BYTES), iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function pinIn(plaintext: Uint8Array): string {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw undecryptable('does not hold a JSON object');
  }
  const pin = (payload as { pin?: unknown } | null)?.pin;
  if (typeof pin !== 'string') throw undecryptable('does not hold {"pin": "<PIN>"}');
  return pin;
}

/**
 * Opens the device's JWE: compact, alg RSA-OAEP-256, enc A256CBC-HS512, `kid` equal to the request's
 * `key_id`, plaintext `{"pin": "..."}`. Every failure is a 400 on `encrypted_pin` with a fixed
 * message; the PIN it yields is checked against the PIN rules by the caller.
 */
export function decryptPin(encryptedPin: string, key: PinKey): string {
  const header = headerOf(encryptedPin);
  if (header.alg !== ALG || header.enc !== ENC || header.zip !== undefined || header.crit !== undefined) {
    throw undecryptable(`must use alg ${ALG} and enc ${ENC}, without compression`);
  }
  if (header.kid !== key.jwk.kid) throw undecryptable('names another key than key_id');
  let plaintext: Buffer;
  try {
    plaintext = openCompactJwe(encryptedPin, key.privateKey);
  } catch {
    throw undecryptable('could not be decrypted');
  }
  return pinIn(plaintext);
}
