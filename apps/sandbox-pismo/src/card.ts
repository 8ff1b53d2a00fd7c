import type { PinHash } from '@pinflow/sandbox-kit';
import type { PinBlockProblem } from './zone-pin-keys';

/** Pismo's card statuses, as its event schemas list them (UNBOUND is spelled UMBOUND there). */
export const CARD_STATUSES = [
  'CREATED',
  'UNBOUND',
  'NORMAL',
  'BLOCKED',
  'PENDING',
  'WARNING',
  'REISSUED',
  'INOPERATIVE',
  'LOST',
  'ROBBED',
  'CANCELED',
  'FRAUD',
  'DAMAGED',
  'EXPIRED',
  'DELETED',
  'BROKEN',
  'THEFT',
  'DEFECT',
] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/** Not yet active (CREATED, UNBOUND), active, or temporarily blocked; every other status is terminal. */
const LIVING_STATUSES: ReadonlySet<CardStatus> = new Set(['CREATED', 'UNBOUND', 'NORMAL', 'BLOCKED', 'PENDING', 'WARNING']);

/** Active or temporarily blocked: exceeding the tries blocks such a card, and resetting them only clears the counter. */
const TRIES_BLOCK_STATUSES: ReadonlySet<CardStatus> = new Set(['NORMAL', 'PENDING', 'WARNING']);

export const CARD_TYPES = ['PLASTIC', 'RECURRING', 'TEMPORARY', 'VIRTUAL'] as const;
export type CardType = (typeof CARD_TYPES)[number];

export interface CardProfile {
  /** Pismo's card ids are integers; the sandbox also takes readable ids such as `card-1` for tests. */
  cardId: string;
  accountId: number;
  customerId: number;
  programId: number;
  cardType: CardType;
  cardName: string;
  printedName: string;
  /** The card number a format 0 PIN block is bound to. */
  pan: string;
  issuingDate: Date;
  expirationDate: Date;
  /** Overrides the program's maximum for this card only. */
  maxPasswordTries?: number;
}

export const SCRIPT_TYPES = ['SYNC_PIN', 'PIN_UPDATE'] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

/**
 * A chip script waiting for (or delivered by) the card's next contact authorization. SYNC_PIN carries
 * the online PIN as it is when applied; PIN_UPDATE the PIN it was appended with, under the issuer's
 * pre-registered script id.
 */
export interface ChipScript {
  id: number;
  type: ScriptType;
  createdAt: Date;
  appliedAt?: Date;
  /** PIN_UPDATE only: the issuer's script id, and the hash of the PIN it writes to the chip. */
  issuerScriptId?: string;
  pinHash?: PinHash;
}

/** What a successful operation changed; each change becomes one Pismo event. */
export type CardChange =
  | { kind: 'password_changed' }
  | { kind: 'password_change_failed' }
  | { kind: 'status_changed'; previousStatus: CardStatus }
  | { kind: 'script'; scriptEvent: 'script_created' | 'script_applied'; script: ChipScript };

export type RejectionReason = 'TERMINAL_STATUS' | 'TRIES_NOT_RESETTABLE';

/** Pismo refuses the operation in the card's current status; the card is unchanged. */
export class CardRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'CardRejected';
  }
}

/** One simulated Pismo card: its status, password tries counter, PIN hash and chip scripts. */
export class Card {
  passwordTries = 0;
  pinHash?: PinHash;
  /** The PIN on the chip, for offline verification: written only by an applied script. */
  offlinePinHash?: PinHash;
  pinChangedAt?: Date;
  pinChanges = 0;
  readonly pendingScripts: ChipScript[] = [];
  readonly appliedScripts: ChipScript[] = [];
  /** PIN blocks that set no PIN, and why: never the block. */
  readonly pinBlockRefusals: { at: Date; problem: PinBlockProblem }[] = [];

  constructor(
    readonly profile: CardProfile,
    public status: CardStatus,
  ) {}

  /**
   * Replaces the PIN. The tries counter restarts at 0: the cardholder now knows the PIN, so earlier
   * failures no longer count. The status is left alone; a BLOCKED card is unblocked by resetting its tries.
   */
  changePin(pinHash: PinHash, syncOfflinePin: boolean, now: Date, nextScriptId: () => number): CardChange[] {
    this.refuseIfTerminal('change the password of');
    this.pinHash = pinHash;
    this.pinChangedAt = now;
    this.pinChanges += 1;
    this.passwordTries = 0;
    const changes: CardChange[] = [{ kind: 'password_changed' }];
    if (syncOfflinePin) changes.push(this.appendScript({ id: nextScriptId(), type: 'SYNC_PIN', createdAt: now }));
    return changes;
  }

  /** A PIN change Pismo took but could not apply (a PIN block it cannot read): reported, nothing changed. */
  failPinChange(problem: PinBlockProblem, now: Date): CardChange[] {
    this.refusePinBlock(problem, now, 'change the password of');
    return [{ kind: 'password_change_failed' }];
  }

  /** A PIN block that sets no PIN is kept as a refusal (the reason, never the block); a card in a terminal status refuses first. */
  refusePinBlock(problem: PinBlockProblem, now: Date, what: string): void {
    this.refuseIfTerminal(what);
    this.pinBlockRefusals.push({ at: now, problem });
  }

  /** Appends a script that writes the online PIN, as it is when the chip receives it, to the chip. */
  syncOfflinePin(now: Date, nextScriptId: () => number): CardChange[] {
    this.refuseIfTerminal('sync the offline PIN of');
    return [this.appendScript({ id: nextScriptId(), type: 'SYNC_PIN', createdAt: now })];
  }

  /** Appends the issuer's pre-registered PIN update script, carrying `pinHash` to the chip; the online PIN is left alone. */
  appendPinUpdateScript(pinHash: PinHash, issuerScriptId: string, now: Date, nextScriptId: () => number): { script: ChipScript; changes: CardChange[] } {
    this.refuseIfTerminal('update the offline PIN of');
    const script: ChipScript = { id: nextScriptId(), type: 'PIN_UPDATE', createdAt: now, issuerScriptId, pinHash };
    return { script, changes: [this.appendScript(script)] };
  }

  /**
   * Counts one wrong PIN. Reaching `maxTries` with `blockWhenExceeded` blocks an active or temporarily
   * blocked card; a CREATED or UNBOUND card only counts, and a BLOCKED card keeps counting without a new event.
   */
  increasePasswordTries(blockWhenExceeded: boolean, maxTries: number): CardChange[] {
    this.refuseIfTerminal('count password tries of');
    this.passwordTries += 1;
    if (!blockWhenExceeded || this.passwordTries < maxTries || !TRIES_BLOCK_STATUSES.has(this.status)) return [];
    return [this.moveTo('BLOCKED')];
  }

  /** Clears the counter; a BLOCKED card becomes NORMAL again. */
  resetPasswordTries(): CardChange[] {
    if (this.status !== 'BLOCKED' && !TRIES_BLOCK_STATUSES.has(this.status)) {
      throw new CardRejected('TRIES_NOT_RESETTABLE', `Cannot reset the password tries of a card in status ${this.status}`);
    }
    this.passwordTries = 0;
    return this.status === 'BLOCKED' ? [this.moveTo('NORMAL')] : [];
  }

  /** A contact (chip) authorization delivers every pending script, oldest first; the last one's PIN is the chip's. */
  applyPendingScripts(now: Date): CardChange[] {
    const applied = this.pendingScripts.splice(0);
    for (const script of applied) {
      script.appliedAt = now;
      this.offlinePinHash = script.type === 'SYNC_PIN' ? this.pinHash : script.pinHash;
    }
    this.appliedScripts.push(...applied);
    return applied.map((script) => ({ kind: 'script', scriptEvent: 'script_applied', script }));
  }

  private appendScript(script: ChipScript): CardChange {
    this.pendingScripts.push(script);
    return { kind: 'script', scriptEvent: 'script_created', script };
  }

  private moveTo(status: CardStatus): CardChange {
    const previousStatus = this.status;
    this.status = status;
    return { kind: 'status_changed', previousStatus };
  }

  private refuseIfTerminal(what: string): void {
    if (!LIVING_STATUSES.has(this.status)) {
      throw new CardRejected('TERMINAL_STATUS', `Cannot ${what} a card in status ${this.status}`);
    }
  }
}
