import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Where the CMS keeps its cards' PINs so that it can answer D1's "get PIN": sealed (AES-256-GCM) under
 * a key that exists only in this process's memory, standing in for the HSM a real CMS keeps its PIN key
 * in. A PIN never outlives the process, and nothing outside this class can read a sealed one.
 */
export class PinVault {
  private readonly key = randomBytes(32);

  /** The PIN sealed: base64url of IV, authentication tag and ciphertext. */
  seal(pin: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(pin, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  }

  /** Throws unless `sealed` was sealed by this vault, untampered. */
  unseal(sealed: string): string {
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv(CIPHER, this.key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** Whether `pin` is the sealed one, compared in constant time. */
  matches(sealed: string, pin: string): boolean {
    const digest = (value: string) => createHash('sha256').update(value).digest();
    return timingSafeEqual(digest(this.unseal(sealed)), digest(pin));
  }
}
