import type { PinHash } from '@pinflow/sandbox-kit';
import type { OneTimeCode } from './one-time-code';

/** Vault documents no card statuses; the sandbox knows these three (see the README). */
export const CARD_STATUSES = ['ACTIVE', 'BLOCKED', 'CLOSED'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/** One simulated Vault card: its status, the hash of its passcode, and the last code texted for it. */
export class VaultCard {
  passcodeHash?: PinHash;
  passcodeSetAt?: Date;
  passcodeChanges = 0;
  /** A newer code replaces it: only the latest one texted can be used. */
  code?: OneTimeCode;

  constructor(
    /** Vault's card ids are int64: kept as the canonical decimal string. */
    readonly id: string,
    public status: CardStatus,
  ) {}

  setPasscode(hash: PinHash, now: Date): void {
    this.passcodeHash = hash;
    this.passcodeSetAt = now;
    this.passcodeChanges += 1;
  }
}

/** The cards the sandbox knows. Cards exist only once seeded: the sandbox never invents one. */
export class CardRegistry {
  private readonly cards = new Map<string, VaultCard>();

  /** Creates the card or replaces it with a fresh one (no passcode, no code). */
  seed(id: string, status: CardStatus): VaultCard {
    const card = new VaultCard(id, status);
    this.cards.set(id, card);
    return card;
  }

  find(id: string): VaultCard | undefined {
    return this.cards.get(id);
  }

  clear(): void {
    this.cards.clear();
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/** A card id as Vault takes it, an int64 from 1 to 2^63-1, in canonical form; undefined if it is not one. */
export function cardIdFrom(raw: string): string | undefined {
  if (!/^\d{1,25}$/.test(raw)) return undefined;
  const id = BigInt(raw);
  return id >= 1n && id <= INT64_MAX ? id.toString() : undefined;
}
