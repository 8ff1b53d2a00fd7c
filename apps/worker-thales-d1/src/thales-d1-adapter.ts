import { Inject, Injectable } from '@nestjs/common';
import type { ThalesD1ChangePinCommand } from '@pinflow/contracts';
import type { Logger } from '@pinflow/logging';
import { decryptSecret, PinKeyRing } from '@pinflow/pin-crypto';
import { isSuccess, VendorAdapter, VendorCall, VendorCallResult, WORKER_LOGGER } from '@pinflow/worker-kit';
import { changeCounterOf, CmsClient } from './d1/cms-client';
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

/**
 * D1's part of running a command: pinflow plays D1 and pushes the PIN to the card management
 * system. The CMS logs the command id as x-correlation-id. The clear PIN, PAN and PIN block exist
 * only inside `prepare` and the call it returns.
 */
@Injectable()
export class ThalesD1Adapter implements VendorAdapter<ThalesD1ChangePinCommand> {
  readonly settle = settle;

  constructor(
    private readonly cms: CmsClient,
    private readonly cmsKey: CmsEncryptionKey,
    private readonly keyRing: PinKeyRing,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
  ) {}

  prepare(command: ThalesD1ChangePinCommand): Promise<VendorCall> {
    return command.pinBlockFormat === 'ISO0' ? this.prepareIso0(command) : this.prepareSeccos(command);
  }

  /**
   * An ISO0 block depends on the PIN and the PAN only, so it is built and encrypted once, and the call
   * keeps nothing but the JWE.
   */
  private async prepareIso0(command: ThalesD1ChangePinCommand): Promise<VendorCall> {
    const block = iso0PinBlock(await decryptSecret('pin', command.encryptedPin, this.keyRing), await decryptSecret('pan', command.encryptedPan, this.keyRing));
    const encryptedPinBlock = await this.cmsKey.encrypt(JSON.stringify(block));
    return () => this.cms.setPin(command, { type: 'ISO0', encryptedPinBlock }, command.commandId);
  }

  /**
   * A Seccos block is computed with the card's current change counter, so every attempt reads it
   * first; an attempt after a timed-out one that did reach the CMS then finds the counter moved on.
   * The PAN plays no part and is not decrypted.
   */
  private async prepareSeccos(command: ThalesD1ChangePinCommand): Promise<VendorCall> {
    const pin = await decryptSecret('pin', command.encryptedPin, this.keyRing);
    return async () => {
      const result = await this.pushSeccos(command, pin);
      if (!isStaleCounter(result)) return result;
      // The counter moved between the read and the write (another change of the card's PIN got in
      // between): the CMS refused the block without applying it, so one more read-and-push is safe.
      // Only one: a card whose counter keeps moving fails rather than holding up its partition.
      this.logger.warn({ commandId: command.commandId, cardId: command.cardId }, 'the change counter moved between read and write; reading it again');
      return this.pushSeccos(command, pin);
    };
  }

  /** Reads the counter and pushes the block computed with it; a counter read that fails ends the call with its answer. */
  private async pushSeccos(command: ThalesD1ChangePinCommand, pin: string): Promise<VendorCallResult> {
    const read = await this.cms.changeCounter(command, command.commandId);
    if (!isSuccess(read)) return read;
    const changeCounter = changeCounterOf(read.body);
    if (changeCounter === undefined) {
      this.logger.warn({ commandId: command.commandId, vendorStatus: read.status }, 'the CMS answered the change counter read with something other than {"changeCounter": <integer>}');
      return UNREADABLE_COUNTER;
    }
    const encryptedPinBlock = await this.cmsKey.encrypt(JSON.stringify(seccosPinBlock(pin, changeCounter)));
    return this.cms.setPin(command, { type: '3DES_SECCOS', encryptedPinBlock }, command.commandId);
  }
}
