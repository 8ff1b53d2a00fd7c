import { CompactEncrypt, compactDecrypt } from 'jose';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Where the CMS keeps its cards' PINs so that it can answer D1's "get PIN": sealed under a key that
 * exists only in this process's memory, standing in for the HSM a real CMS keeps its PIN key in. A PIN
 * never outlives the process, and nothing outside this class can read a sealed one.
 */
export class PinVault {
  private readonly key = randomBytes(32);

  seal(pin: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(pin)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(this.key);
  }

  async unseal(sealed: string): Promise<string> {
    const { plaintext } = await compactDecrypt(sealed, this.key);
    return new TextDecoder().decode(plaintext);
  }

  /** Whether `pin` is the sealed one, compared in constant time. */
  async matches(sealed: string, pin: string): Promise<boolean> {
    const digest = (value: string) => createHash('sha256').update(value).digest();
    return timingSafeEqual(digest(await this.unseal(sealed)), digest(pin));
  }
}
