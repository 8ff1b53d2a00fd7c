import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppliedOperation, CallLog } from './call-log';
import { Card, CardChange, ChipScript } from './card';
import { CardRegistry } from './card-registry';
import type { SandboxConfig } from './config';
import { EventOutbox } from './event-outbox';
import { FaultInjector } from './faults';
import { PinHash } from './pin-hash';
import { pismoEventFor } from './pismo-events';
import { VendorError } from './vendor-http';

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');

/**
 * Pismo's card operations. Each one changes the card in a single synchronous step and then waits
 * until the broker has its events, so events leave in the order of the changes and a caller that
 * got a success can rely on the events existing.
 */
@Injectable()
export class PismoSimulator {
  private readonly logger = new Logger(PismoSimulator.name);

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly registry: CardRegistry,
    private readonly outbox: EventOutbox,
    private readonly calls: CallLog,
    private readonly faults: FaultInjector,
  ) {}

  /**
   * Runs a card operation through the error and timeout drills. A drilled error is answered without
   * applying anything; a drilled timeout applies the operation first when `timeoutApplies` is set,
   * holds the caller, then answers 504 either way.
   */
  async underDrills(operation: () => Promise<void>): Promise<void> {
    const fate = this.faults.fate();
    if (fate === 'error') throw new VendorError(500, { message: 'Internal server error' });
    if (fate === 'answer') return operation();
    const { timeoutApplies, timeoutHoldMs } = this.faults.knobs;
    if (timeoutApplies) {
      await operation().catch((error: unknown) => this.logger.debug({ reason: (error as Error).message }, 'the timed-out call was refused'));
    }
    await sleep(timeoutHoldMs);
    throw new VendorError(504, { message: 'Endpoint request timed out' });
  }

  async changePassword(cardId: string, pin: string, syncOfflinePin: boolean, cid: string): Promise<void> {
    // Hashed before the card is looked at, so that looking and changing happen without a pause between them.
    const pinHash = await PinHash.of(pin);
    const card = this.existingCard(cardId);
    const now = new Date();
    const changes = card.changePin(pinHash, syncOfflinePin, now, () => this.registry.nextId());
    await this.applied(card, changes, cid, 'pinChanges', now);
  }

  async increasePasswordTries(cardId: string, blockWhenExceeded: boolean, cid: string): Promise<void> {
    const card = this.existingCard(cardId);
    const changes = card.increasePasswordTries(blockWhenExceeded, this.registry.maxPasswordTries(card));
    await this.applied(card, changes, cid, 'triesIncreases', new Date());
  }

  async resetPasswordTries(cardId: string, cid: string): Promise<void> {
    const card = this.existingCard(cardId);
    const changes = card.resetPasswordTries();
    await this.applied(card, changes, cid, 'triesResets', new Date());
  }

  /** A chip authorization at a terminal: the card receives its pending scripts. */
  async contactAuthorization(card: Card, cid: string): Promise<ChipScript[]> {
    const now = new Date();
    const changes = card.applyPendingScripts(now);
    await this.publish(card, changes, cid, now);
    return changes.flatMap((change) => (change.kind === 'script' ? [change.script] : []));
  }

  private existingCard(cardId: string): Card {
    const card = this.registry.find(cardId);
    if (!card) throw new VendorError(404, { message: 'Card not found' });
    return card;
  }

  private applied(card: Card, changes: CardChange[], cid: string, operation: AppliedOperation, now: Date): Promise<void> {
    this.calls.countApplied(cid, operation);
    return this.publish(card, changes, cid, now);
  }

  private publish(card: Card, changes: CardChange[], cid: string, now: Date): Promise<void> {
    return this.outbox.publish(changes.map((change) => pismoEventFor(card, change, { orgId: this.config.SANDBOX_ORG_ID, cid, now })));
  }
}
