import { Injectable } from '@nestjs/common';
import { CallLog, FaultInjector, PinHash } from '@pinflow/sandbox-kit';
import type { KeyObject } from 'node:crypto';
import { CardRegistry, VaultCard } from './card';
import { CodeRejection, OneTimeCode } from './one-time-code';
import { passcodeProblem } from './passcode-rules';
import { rsaDecrypt, RsaKeyRing } from './rsa-keys';
import { CODE_MESSAGES, PASSCODE_MESSAGES, vaultError } from './vault-errors';
import type { VaultKnobs, VaultOperation } from './vault-knobs';

export interface SetPasscodeRequest {
  keyId: string;
  /** The one-time code, in clear. */
  code: string;
  /** The passcode, RSA-encrypted to the key `keyId` names, base64. */
  passCode: string;
}

function refuseCode(rejection: CodeRejection | undefined): void {
  if (rejection) throw vaultError(rejection, CODE_MESSAGES[rejection], 'code');
}

const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;

/** Vault's passcode operations. Applied counts are kept per card: Vault has no correlation id. */
@Injectable()
export class VaultSimulator {
  constructor(
    private readonly cards: CardRegistry,
    private readonly keys: RsaKeyRing,
    private readonly calls: CallLog<VaultOperation>,
    private readonly faults: FaultInjector<VaultKnobs>,
  ) {}

  sendCode(cardId: string): void {
    this.textCode(this.openCard(cardId));
    this.calls.countApplied(cardId, 'codesSent');
  }

  /** Texts the cardholder a new code (here: keeps it for the `/sandbox` hooks); it replaces any earlier one. */
  textCode(card: VaultCard): OneTimeCode {
    card.code = OneTimeCode.issue(this.faults.knobs.codeTtlSeconds);
    return card.code;
  }

  /** Checks a code without using it up. */
  verifyCode(cardId: string, code: string): void {
    this.checkCode(this.openCard(cardId), code);
  }

  /**
   * Checks the card, the key, the code and the passcode, in that order; only when all are right is the
   * code used up and the passcode's hash stored, in the same step. A refused request leaves the code usable.
   */
  async setPasscode(cardId: string, request: SetPasscodeRequest): Promise<void> {
    const card = this.openCard(cardId);
    const passcode = this.acceptablePasscode(card, request);
    const now = new Date();
    refuseCode(card.code ? card.code.use(request.code, now) : 'CODE_INVALID');
    card.setPasscode(PinHash.of(passcode), now);
    this.calls.countApplied(cardId, 'passcodeSets');
  }

  private acceptablePasscode(card: VaultCard, { keyId, code, passCode }: SetPasscodeRequest): string {
    const privateKey = this.keys.privateKeyFor(keyId);
    if (!privateKey) throw vaultError('KEY_EXPIRED', 'The key is unknown or has expired: fetch the current one', 'keyId');
    this.checkCode(card, code);
    const passcode = this.decrypt(privateKey, passCode);
    const problem = passcodeProblem(passcode);
    if (problem) throw vaultError(problem, PASSCODE_MESSAGES[problem], 'passCode');
    return passcode;
  }

  private decrypt(privateKey: KeyObject, passCode: string): string {
    const unreadable = () => vaultError('PASSCODE_UNREADABLE', 'The passcode could not be decrypted with the key', 'passCode');
    if (!BASE64.test(passCode)) throw unreadable();
    try {
      const plain = rsaDecrypt(privateKey, Buffer.from(passCode, 'base64'), this.faults.knobs.rsaPadding);
      const passcode = plain.toString('utf8');
      plain.fill(0);
      return passcode;
    } catch {
      throw unreadable();
    }
  }

  private checkCode(card: VaultCard, code: string): void {
    refuseCode(card.code ? card.code.rejectionOf(code) : 'CODE_INVALID');
  }

  private openCard(cardId: string): VaultCard {
    const card = this.cards.find(cardId);
    if (!card) throw vaultError('CARD_NOT_FOUND', 'Card not found', 'id', 404);
    if (card.status === 'CLOSED') throw vaultError('CARD_CLOSED', 'The card is closed', 'id');
    return card;
  }
}
