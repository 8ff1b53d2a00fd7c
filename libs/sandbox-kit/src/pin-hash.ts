import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// The hash only exists so the sandbox never holds a PIN, and a 4-6 digit PIN falls to brute force
// whatever the cost; a low cost keeps the sandbox from becoming the bottleneck of a benchmark.
const COST = { N: 1024, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(pin: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, KEY_LENGTH, COST, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** A salted scrypt hash of a card's PIN: all the sandbox keeps of it. */
export class PinHash {
  private constructor(
    private readonly salt: Buffer,
    private readonly key: Buffer,
  ) {}

  static async of(pin: string): Promise<PinHash> {
    const salt = randomBytes(16);
    return new PinHash(salt, await derive(pin, salt));
  }

  async matches(pin: string): Promise<boolean> {
    return timingSafeEqual(await derive(pin, this.salt), this.key);
  }

  /** Keeps even the hash out of anything that serialises a card by mistake. */
  toJSON(): string {
    return '[pin hash]';
  }
}
