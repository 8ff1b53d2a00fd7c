import { compactDecrypt, decodeProtectedHeader } from 'jose';
import type { PinKey } from './pin-keys';
import { solarisError } from './solaris-http';

const ALG = 'RSA-OAEP-256';
const ENC = 'A256CBC-HS512';

const undecryptable = (predicate: string) => solarisError('validation_error', `encrypted_pin ${predicate}`, 'encrypted_pin');

function headerOf(encryptedPin: string): Record<string, unknown> {
  if (encryptedPin.split('.').length !== 5) throw undecryptable('is not a JWE in compact serialization');
  try {
    return decodeProtectedHeader(encryptedPin);
  } catch {
    throw undecryptable('is not a JWE in compact serialization');
  }
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
export async function decryptPin(encryptedPin: string, key: PinKey): Promise<string> {
  const header = headerOf(encryptedPin);
  if (header.alg !== ALG || header.enc !== ENC || header.zip !== undefined) throw undecryptable(`must use alg ${ALG} and enc ${ENC}, without compression`);
  if (header.kid !== key.jwk.kid) throw undecryptable('names another key than key_id');
  const decrypted = await compactDecrypt(encryptedPin, key.privateKey, { keyManagementAlgorithms: [ALG], contentEncryptionAlgorithms: [ENC] }).catch(() => {
    throw undecryptable('could not be decrypted');
  });
  return pinIn(decrypted.plaintext);
}
