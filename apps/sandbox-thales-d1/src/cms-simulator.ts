import { Injectable } from '@nestjs/common';
import { Card } from './card';
import { CardRegistry } from './card-registry';
import { VendorError } from '@pinflow/sandbox-kit';
import { CallerKey, CmsEncryptionKey } from './d1-jwe';
import { parsePinBlockJson, pinBlockJsonOf, pinOf, PinBlockType } from './pin-block-json';
import { PinVault } from './pin-vault';

export interface EncryptedPinBlock {
  type: PinBlockType;
  encryptedPinBlock: string;
}

/** The card management system's side of D1's PIN Management API. */
@Injectable()
export class CmsSimulator {
  constructor(
    private readonly registry: CardRegistry,
    private readonly cmsKey: CmsEncryptionKey,
    private readonly callerKey: CallerKey,
    private readonly vault: PinVault,
  ) {}

  /**
   * Replaces the card's PIN with the one in D1's encrypted PIN block: every check, then the change, in
   * one step.
   */
  async setPin(cardId: string, { type, encryptedPinBlock }: EncryptedPinBlock): Promise<void> {
    const card = this.existingCard(cardId);
    const block = parsePinBlockJson(type, this.cmsKey.decrypt(encryptedPinBlock));
    card.admit(block);
    card.setPin(block, this.vault.seal(pinOf(block, card.pan)), new Date());
  }

  changeCounter(cardId: string): number {
    return this.existingCard(cardId).changeCounter;
  }

  /** The card's PIN in the type it was set with, encrypted to D1's key. */
  async pinBlock(cardId: string): Promise<EncryptedPinBlock> {
    const card = this.existingCard(cardId);
    if (!card.pin) throw new VendorError(404, 'PIN_NOT_SET', 'The card has no PIN yet');
    const { sealed, type, changeCounter } = card.pin;
    const plaintext = pinBlockJsonOf(type, this.vault.unseal(sealed), card.pan, changeCounter);
    return { type, encryptedPinBlock: await this.callerKey.encrypt(plaintext) };
  }

  private existingCard(cardId: string): Card {
    const card = this.registry.find(cardId);
    if (!card) throw new VendorError(404, 'CARD_NOT_FOUND', 'The issuer has no card with this id');
    return card;
  }
}
