import { Inject, Injectable } from '@nestjs/common';
import { CallLog, PinHash, VendorError } from '@pinflow/sandbox-kit';
import { Card, CardChange, ChipScript } from './card';
import { CardRegistry } from './card-registry';
import type { SandboxConfig } from './config';
import { EventOutbox } from './event-outbox';
import { pismoEventFor } from './pismo-events';
import { PismoOperation } from './pismo-http';
import { PinBlockReading, ZonePinKeys } from './zone-pin-keys';

/** The PIN a PIN update script writes to the chip: itself, or a PIN block under a zone PIN key. */
export type ScriptPin = { pin: string } | { pinBlock: string; keyId: string };

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');

/**
 * Pismo's card operations. Each one changes the card in a single synchronous step and then waits
 * until the broker has its events, so events leave in the order of the changes and a caller that
 * got a success can rely on the events existing.
 */
@Injectable()
export class PismoSimulator {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly registry: CardRegistry,
    private readonly outbox: EventOutbox,
    private readonly calls: CallLog<PismoOperation>,
    private readonly zonePinKeys: ZonePinKeys,
  ) {}

  async changePassword(cardId: string, pin: string, syncOfflinePin: boolean, cid: string): Promise<void> {
    const card = this.existingCard(cardId);
    const now = new Date();
    const changes = card.changePin(PinHash.of(pin), syncOfflinePin, now, () => this.registry.nextId());
    await this.applied(card, changes, cid, 'pinChanges', now);
  }

  /**
   * A key the organisation does not hold is refused (403). A block that does not read as the card's
   * PIN is taken (204) and reported by update_password-1 with status FAILURE: Pismo's document
   * declares no 400 for this endpoint, and says it raises that event. The reason is kept on the card
   * for tests.
   */
  async updatePinFromPinBlock(cardId: string, pinBlock: string, keyId: string, syncOfflinePin: boolean, cid: string): Promise<void> {
    const card = this.existingCard(cardId);
    const reading = this.readPinBlock(card, { pinBlock, keyId });
    const now = new Date();
    if ('problem' in reading) {
      const changes = card.failPinChange(reading.problem, now);
      return this.publish(card, changes, cid, now);
    }
    const changes = card.changePin(PinHash.of(reading.pin), syncOfflinePin, now, () => this.registry.nextId());
    await this.applied(card, changes, cid, 'pinBlockUpdates', now);
  }

  async increasePasswordTries(cardId: string, blockWhenExceeded: boolean, cid: string): Promise<void> {
    const card = this.existingWalletCard(cardId);
    const changes = card.increasePasswordTries(blockWhenExceeded, this.registry.maxPasswordTries(card));
    await this.applied(card, changes, cid, 'triesIncreases', new Date());
  }

  async resetPasswordTries(cardId: string, cid: string): Promise<void> {
    const card = this.existingWalletCard(cardId);
    const changes = card.resetPasswordTries();
    await this.applied(card, changes, cid, 'triesResets', new Date());
  }

  async syncOfflinePin(cardId: string, cid: string): Promise<void> {
    const card = this.existingCard(cardId);
    const now = new Date();
    await this.applied(card, card.syncOfflinePin(now, () => this.registry.nextId()), cid, 'offlinePinSyncs', now);
  }

  /**
   * Pismo's `x-account-id` must name the card's account; any other reads as a card it does not have.
   * A PIN block is read as the PIN block endpoint reads it; one that sets no PIN is refused with 400 (the
   * one answer besides success this endpoint declares for a bad body), and no script is appended.
   */
  async appendPinUpdateScript(cardId: string, accountId: string, pin: ScriptPin, issuerScriptId: string, cid: string): Promise<{ card: Card; script: ChipScript }> {
    const card = this.existingCard(cardId);
    if (String(card.profile.accountId) !== accountId) throw new VendorError(404, 'CARD_NOT_FOUND', 'Card not found');
    const now = new Date();
    const reading = 'pin' in pin ? pin : this.readPinBlock(card, pin);
    if ('problem' in reading) {
      card.refusePinBlock(reading.problem, now, 'update the offline PIN of');
      throw new VendorError(400, 'INVALID_PIN_BLOCK', 'The PIN block does not hold a PIN of 4 to 6 digits for this card under this key');
    }
    const { script, changes } = card.appendPinUpdateScript(PinHash.of(reading.pin), issuerScriptId, now, () => this.registry.nextId());
    await this.applied(card, changes, cid, 'pinUpdateScripts', now);
    return { card, script };
  }

  /** A chip authorization at a terminal: the card receives its pending scripts. */
  async contactAuthorization(card: Card, cid: string): Promise<ChipScript[]> {
    const now = new Date();
    const changes = card.applyPendingScripts(now);
    await this.publish(card, changes, cid, now);
    return changes.flatMap((change) => (change.kind === 'script' ? [change.script] : []));
  }

  /** A key the organisation does not hold is refused (403), before anything is read. */
  private readPinBlock(card: Card, { pinBlock, keyId }: { pinBlock: string; keyId: string }): PinBlockReading {
    if (!this.zonePinKeys.has(keyId)) throw new VendorError(403, 'UNKNOWN_KEY', "You don't have permission to access this resource");
    return this.zonePinKeys.read(keyId, pinBlock, card.profile.pan);
  }

  private existingCard(cardId: string): Card {
    const card = this.registry.find(cardId);
    if (!card) throw new VendorError(404, 'CARD_NOT_FOUND', 'Card not found');
    return card;
  }

  /**
   * Pismo's published OpenAPI declares no 404 for the wallet host's tries endpoints, only 403 (and 406 for
   * a reset): a card the caller's organisation does not have is one it may not act on.
   */
  private existingWalletCard(cardId: string): Card {
    const card = this.registry.find(cardId);
    if (!card) throw new VendorError(403, 'FORBIDDEN', "You don't have permission to access this resource");
    return card;
  }

  private applied(card: Card, changes: CardChange[], cid: string, operation: PismoOperation, now: Date): Promise<void> {
    this.calls.countApplied(cid, operation);
    return this.publish(card, changes, cid, now);
  }

  private publish(card: Card, changes: CardChange[], cid: string, now: Date): Promise<void> {
    return this.outbox.publish(changes.map((change) => pismoEventFor(card, change, { orgId: this.config.SANDBOX_ORG_ID, cid, now })));
  }
}
