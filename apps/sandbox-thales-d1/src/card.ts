import { VendorError } from '@pinflow/sandbox-kit';
import type { PinBlockJson, PinBlockType } from './pin-block-json';

/** Card statuses the sandbox distinguishes; only a DEACTIVATED card refuses a new PIN. */
export const CARD_STATUSES = ['ACTIVE', 'INACTIVE', 'SUSPENDED', 'DEACTIVATED'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/** The card's PIN, sealed for the life of the process (see PinVault), and how it was set. */
export interface StoredPin {
  sealed: string;
  type: PinBlockType;
  /** The change counter the PIN was set under, which a Seccos block read back carries. */
  changeCounter: number;
}

/** One card of the simulated CMS. */
export class Card {
  pin?: StoredPin;
  pinChangedAt?: Date;
  pinChanges = 0;

  constructor(
    readonly cardId: string,
    readonly pan: string,
    public status: CardStatus,
    /** Counts the card's PIN changes; Seccos PIN blocks are computed with its current value. */
    public changeCounter: number,
  ) {}

  /**
   * Checks, before anything is computed with the PIN, that the block may replace the card's PIN: the
   * card is not deactivated and a Seccos block was computed with the current counter.
   */
  admit(block: PinBlockJson): void {
    if (this.status === 'DEACTIVATED') throw new VendorError(403, 'CARD_DEACTIVATED', 'The PIN of a deactivated card cannot be set');
    if (block.format === '3DES_SECCOS' && block.changeCounter !== this.changeCounter) {
      throw new VendorError(409, 'STALE_CHANGE_COUNTER', 'The PIN block was computed with another change counter than the card\'s current one; read it again');
    }
  }

  /**
   * Replaces the PIN and counts the change, whatever the block type: the counter counts PIN changes,
   * and the next Seccos block must be computed with the new value. Admits the block itself, so no
   * caller can set a PIN the card refuses.
   */
  setPin(block: PinBlockJson, sealed: string, now: Date): void {
    this.admit(block);
    this.pin = { sealed, type: block.format, changeCounter: this.changeCounter };
    this.changeCounter += 1;
    this.pinChangedAt = now;
    this.pinChanges += 1;
  }
}
