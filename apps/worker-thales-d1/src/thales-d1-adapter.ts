import { Inject, Injectable } from '@nestjs/common';
import type { ThalesD1ChangePinCommand } from '@pinflow/contracts';
import type { Logger } from '@pinflow/logging';
import { decryptSecret, COMMAND_KEYS, type DecryptionKeys } from '@pinflow/pin-crypto';
import { isSuccess, mayHaveApplied, OutcomeCheck, VendorAdapter, VendorCall, VendorCallResult, WORKER_LOGGER } from '@pinflow/worker-kit';
import { changeCounterOf, CmsClient, EncryptedPinBlock } from './d1/cms-client';
import { CmsEncryptionKey } from './d1/cms-key';
import { iso0PinBlock, seccosPinBlock } from './d1/pin-block-json';
import { settle } from './outcomes';

/**
 * What a call ends with when the CMS answers the counter read with a success pinflow cannot read. It
 * must not look like an answer to the PIN change (a 2xx would be taken for the PIN changed), so the
 * worker answers as a gateway does when its upstream sends something invalid: 502, retried like any
 * 5xx, and named in the failure's vendorError.
 */
const UNREADABLE_COUNTER: VendorCallResult = {
  kind: 'answered',
  status: 502,
  body: JSON.stringify({ errorCode: 'UNREADABLE_CHANGE_COUNTER', errorMessage: 'The CMS answered the change counter read without a readable changeCounter' }),
};

/** The CMS's answer to a Seccos block computed with a counter that has moved on since it was read. */
function isStaleCounter(result: VendorCallResult): boolean {
  if (result.kind !== 'answered' || result.status !== 409) return false;
  try {
    return (JSON.parse(result.body) as { errorCode?: unknown }).errorCode === 'STALE_CHANGE_COUNTER';
  } catch {
    return false;
  }
}

/** The encrypted PIN block to push when the card's change counter reads `changeCounter`. */
type BlockFor = (changeCounter: number) => Promise<EncryptedPinBlock>;

/**
 * D1's part of running a command: pinflow plays D1 and pushes the PIN to the card management
 * system. The CMS logs the command id as x-correlation-id. The clear PIN, PAN and PIN block exist
 * only inside `prepare` and the call it returns.
 *
 * Every push reads the card's change counter first, which the CMS moves on with every PIN change:
 * a Seccos block is computed with it, and for either block type it is what tells, after a PUT that
 * timed out, whether that PUT changed the PIN (`checkOutcome`).
 */
@Injectable()
export class ThalesD1Adapter implements VendorAdapter<ThalesD1ChangePinCommand> {
  readonly settle = settle;
  /**
   * The counter read before a PUT that timed out (or was reset), by command id: kept from the call
   * until the kit asks `checkOutcome`, which it does right after that call, and never longer.
   */
  private readonly countersBeforeUnansweredPut = new Map<string, number>();

  constructor(
    private readonly cms: CmsClient,
    private readonly cmsKey: CmsEncryptionKey,
    @Inject(COMMAND_KEYS) private readonly commandKeys: DecryptionKeys,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {}

  async prepare(command: ThalesD1ChangePinCommand): Promise<VendorCall> {
    const blockFor = command.pinBlockFormat === 'ISO0' ? await this.iso0Block(command) : await this.seccosBlock(command);
    return async () => {
      this.countersBeforeUnansweredPut.delete(command.commandId);
      const result = await this.push(command, blockFor);
      if (!isStaleCounter(result)) return result;
      // The counter moved between the read and the write (another change of the card's PIN got in
      // between): the CMS refused the block without applying it, so one more read-and-push is safe.
      // Only one: a card whose counter keeps moving fails rather than holding up its partition.
      this.logger.warn({ commandId: command.commandId, cardId: command.cardId }, 'the change counter moved between read and write; reading it again');
      return this.push(command, blockFor);
    };
  }

  /**
   * Settles a PUT that timed out (or was reset) by reading the change counter again. The counter
   * moves by one with every PIN change, whatever the block type (the CMS contract pinflow documents in
   * apps/sandbox-thales-d1/README.md), and pinflow changes a card's PIN one command at a time. So one
   * step on from the value read before the PUT is the PUT applied. The same value does not mean the
   * PUT was not applied: the CMS may still hold it (a slow CMS, a full queue) and apply it after the
   * read. Pushing again then would set the PIN twice: an ISO0 block carries no counter, and a Seccos
   * block refused as stale is read and pushed again. D1's x-correlation-id is for logs only, so the
   * CMS cannot dedupe either. So anything but one step on stays unknown (OUTCOME_UNKNOWN, for an
   * operator to check and replay), never a second push; only a PUT that never went out (the counter
   * read before it timed out) is surely not applied. GET .../pin could say which PIN the card holds,
   * but needs a caller key registered with the CMS, brings the PIN back into the worker, and cannot
   * tell this PUT from an earlier one that set the same PIN.
   */
  async checkOutcome(command: ThalesD1ChangePinCommand): Promise<OutcomeCheck> {
    const before = this.countersBeforeUnansweredPut.get(command.commandId);
    this.countersBeforeUnansweredPut.delete(command.commandId);
    // What timed out was the counter read before the PUT: the PIN change never went out.
    if (before === undefined) return { outcome: 'not_applied' };
    const read = await this.cms.changeCounter(command, command.commandId);
    const after = isSuccess(read) ? changeCounterOf(read.body) : undefined;
    if (after === before + 1) return { outcome: 'applied', result: read };
    return { outcome: 'unknown' };
  }

  /** An ISO0 block depends on the PIN and the PAN only: built and encrypted once, so the call keeps nothing but the JWE. */
  private async iso0Block(command: ThalesD1ChangePinCommand): Promise<BlockFor> {
    const block = iso0PinBlock(await decryptSecret('pin', command.encryptedPin, this.commandKeys, command), await decryptSecret('pan', command.encryptedPan, this.commandKeys, command));
    const pinBlock: EncryptedPinBlock = { type: 'ISO0', encryptedPinBlock: await this.cmsKey.encrypt(JSON.stringify(block)) };
    return async () => pinBlock;
  }

  /** A Seccos block is computed with the counter of each push. The PAN plays no part and is not decrypted. */
  private async seccosBlock(command: ThalesD1ChangePinCommand): Promise<BlockFor> {
    const pin = await decryptSecret('pin', command.encryptedPin, this.commandKeys, command);
    return async (changeCounter) => ({ type: '3DES_SECCOS', encryptedPinBlock: await this.cmsKey.encrypt(JSON.stringify(seccosPinBlock(pin, changeCounter))) });
  }

  /** Reads the counter and pushes the block for it; a counter read that fails ends the call with its answer. */
  private async push(command: ThalesD1ChangePinCommand, blockFor: BlockFor): Promise<VendorCallResult> {
    const read = await this.cms.changeCounter(command, command.commandId);
    if (!isSuccess(read)) return read;
    const changeCounter = changeCounterOf(read.body);
    if (changeCounter === undefined) {
      this.logger.warn({ commandId: command.commandId, vendorStatus: read.status }, 'the CMS answered the change counter read with something other than {"changeCounter": <integer>}');
      return UNREADABLE_COUNTER;
    }
    const result = await this.cms.setPin(command, await blockFor(changeCounter), command.commandId);
    if (mayHaveApplied(result)) this.countersBeforeUnansweredPut.set(command.commandId, changeCounter);
    return result;
  }
}
