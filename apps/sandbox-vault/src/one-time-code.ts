import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** Why a one-time code cannot be used. */
export type CodeRejection = 'CODE_INVALID' | 'CODE_EXPIRED' | 'CODE_ALREADY_USED';

export const CODE_DIGITS = 6;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The code Vault texts to the cardholder before a passcode is set: six digits, single use, short-lived. */
export class OneTimeCode {
  private usedAt?: Date;

  private constructor(
    readonly value: string,
    readonly expiresAt: Date,
  ) {}

  static issue(ttlSeconds: number, now = new Date()): OneTimeCode {
    const value = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
    return new OneTimeCode(value, new Date(now.getTime() + ttlSeconds * 1000));
  }

  get used(): boolean {
    return this.usedAt !== undefined;
  }

  /**
   * Why `given` cannot be used at `now`, if it cannot. Only the right code learns that it expired or
   * was used: any other is just invalid.
   */
  rejectionOf(given: string, now = new Date()): CodeRejection | undefined {
    if (!timingSafeEqual(digest(given), digest(this.value))) return 'CODE_INVALID';
    if (this.used) return 'CODE_ALREADY_USED';
    if (now >= this.expiresAt) return 'CODE_EXPIRED';
    return undefined;
  }

  /** Uses the code up when it can be used; otherwise says why not and leaves it as it was. */
  use(given: string, now = new Date()): CodeRejection | undefined {
    const rejection = this.rejectionOf(given, now);
    if (rejection === undefined) this.usedAt = now;
    return rejection;
  }

  /** Keeps the code out of anything that serialises a card by mistake. */
  toJSON(): string {
    return '[one-time code]';
  }
}
