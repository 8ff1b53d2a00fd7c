import { Inject, Injectable } from '@nestjs/common';
import type { PismoCommand, PismoUpdatePinBlockFromIso0Command } from '@pinflow/contracts';
import { COMMAND_KEYS, decryptPin, decryptSecret, type DecryptionKeys } from '@pinflow/pin-crypto';
import type { CommandRef, VendorAdapter, VendorCall } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import type { PismoDetails } from './pismo-events';
import { EncipheredPinBlock, PismoClient } from './pismo/pismo-client';
import { ZonePinKey } from './pismo/zone-pin-key';

/** The operations that change the online PIN, each ended by Pismo's update_password-1. */
const PIN_CHANGES: readonly string[] = ['change_pin', 'update_pin_block'];

/** Pismo's part of running a command; the cid Pismo gets is the command id. */
@Injectable()
export class PismoAdapter implements VendorAdapter<PismoCommand> {
  readonly settle = settle;

  constructor(
    private readonly pismo: PismoClient,
    @Inject(COMMAND_KEYS) private readonly commandKeys: DecryptionKeys,
    private readonly zonePinKey: ZonePinKey,
  ) {}

  async prepare(command: PismoCommand): Promise<VendorCall> {
    switch (command.operation) {
      case 'change_pin': {
        const pin = await decryptPin(command.encryptedPin, this.commandKeys, command);
        return () => this.pismo.changePin(command.cardId, pin, command.syncOfflinePin, command.commandId);
      }
      case 'update_pin_block': {
        const block = command.pinBlockSource === 'iso0_block' ? await this.madePinBlock(command) : await this.pinBlock(command, command.encryptedPan);
        const update = { ...block, syncOfflinePin: command.syncOfflinePin };
        return () => this.pismo.updatePinFromPinBlock(command.cardId, update, command.commandId);
      }
      case 'increase_password_tries':
        return () => this.pismo.increasePasswordTries(command.cardId, command.blockCardExceedsCounter, command.commandId);
      case 'reset_password_tries':
        return () => this.pismo.resetPasswordTries(command.cardId, command.commandId);
      case 'sync_offline_pin':
        return () => this.pismo.syncOfflinePin(command.cardId, command.commandId);
      case 'update_offline_pin': {
        const pin = command.encryptedPan === undefined ? { pin: await decryptPin(command.encryptedPin, this.commandKeys, command) } : await this.pinBlock(command, command.encryptedPan);
        const script = { scriptId: command.scriptId, accountId: command.accountId, ...pin };
        return () => this.pismo.appendPinUpdateScript(command.cardId, script, command.commandId);
      }
    }
  }

  /** Pismo's PIN block of the command's PIN and PAN: only the enciphered block outlives this step, the clear PIN, PAN and block are gone once it is made. */
  private async pinBlock(command: PismoCommand & { encryptedPin: string }, encryptedPan: string): Promise<EncipheredPinBlock> {
    const pinBlock = this.zonePinKey.pinBlock(await decryptSecret('pin', command.encryptedPin, this.commandKeys, command), await decryptSecret('pan', encryptedPan, this.commandKeys, command));
    return { pinBlock, keyId: this.zonePinKey.keyId };
  }

  /** A clear format 0 block made elsewhere (D1's), enciphered under the same key: the clear block is gone once it is. */
  private async madePinBlock(command: PismoUpdatePinBlockFromIso0Command): Promise<EncipheredPinBlock> {
    return { pinBlock: this.zonePinKey.encipher(await decryptSecret('pinBlock', command.encryptedPinBlock, this.commandKeys, command)), keyId: this.zonePinKey.keyId };
  }

  /**
   * Pismo raises update_password-1 with the cid a change (of the PIN or from a PIN block) sent, answered or not: a change whose answer
   * was lost (a timeout, a crash mid-call) awaits that event instead of failing with OUTCOME_UNKNOWN.
   * Nothing else raises an event that ends its command: the script operations' issuer_script-1 events
   * follow their answer and only report the script's progress.
   */
  outcomeReportedByEvent(command: CommandRef): boolean {
    return PIN_CHANGES.includes(command.operation);
  }

  /** password.changed echoes syncOfflinePin, but it is built from Pismo's event, which does not carry it. */
  details(command: PismoCommand): PismoDetails | undefined {
    return command.operation === 'change_pin' || command.operation === 'update_pin_block' ? { syncOfflinePin: command.syncOfflinePin } : undefined;
  }
}
