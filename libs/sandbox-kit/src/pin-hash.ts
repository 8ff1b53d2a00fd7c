import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// The hash only exists so the sandbox never holds a PIN. A 4-6 digit PIN falls to brute force
// whatever a hash costs, so a slow password hash would buy nothing but CPU under a benchmark: a keyed
// hash under a key that never leaves this process's memory keeps the PIN out of reach as well.
const PROCESS_KEY = randomBytes(32);

// Under a secret key a salt only has to be unique, so that equal PINs hash differently: a counter is,
// for the life of the process, and costs nothing where 16 random bytes cost more than the HMAC.
let lastSalt = 0n;

function nextSalt(): Buffer {
  lastSalt += 1n;
  const salt = Buffer.allocUnsafe(8);
  salt.writeBigUInt64BE(lastSalt);
  return salt;
}

function digest(pin: string, salt: Buffer): Buffer {
  return createHmac('sha256', PROCESS_KEY).update(salt).update(pin, 'utf8').digest();
}

/** A salted HMAC-SHA256 of a card's PIN under a per-process key: all the sandbox keeps of it. */
export class PinHash {
  private constructor(
    private readonly salt: Buffer,
    private readonly hash: Buffer,
  ) {}

  static of(pin: string): PinHash {
    const salt = nextSalt();
    return new PinHash(salt, digest(pin, salt));
  }

  /** Compared in constant time. */
  matches(pin: string): boolean {
    return timingSafeEqual(digest(pin, this.salt), this.hash);
  }

  /** Keeps even the hash out of anything that serialises a card by mistake. */
  toJSON(): string {
    return '[pin hash]';
  }
}
