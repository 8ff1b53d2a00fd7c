import { Inject, Injectable } from '@nestjs/common';
import type { PismoCommand } from '@pinflow/contracts';
import { decryptPin, COMMAND_KEYS, type DecryptionKeys } from '@pinflow/pin-crypto';
import type { CommandRef, VendorAdapter, VendorCall } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import type { PismoDetails } from './pismo-events';
import { PismoClient } from './pismo/pismo-client';

/** Pismo's part of running a command; the cid Pismo gets is the command id. */
@Injectable()
export class PismoAdapter implements VendorAdapter<PismoCommand> {
  readonly settle = settle;

  constructor(
    private readonly pismo: PismoClient,
    @Inject(COMMAND_KEYS) private readonly commandKeys: DecryptionKeys,
  ) {}

  async prepare(command: PismoCommand): Promise<VendorCall> {
    switch (command.operation) {
      case 'change_pin': {
        const pin = await decryptPin(command.encryptedPin, this.commandKeys, command);
        return () => this.pismo.changePin(command.cardId, pin, command.syncOfflinePin, command.commandId);
      }
      case 'increase_password_tries':
        return () => this.pismo.increasePasswordTries(command.cardId, command.blockCardExceedsCounter, command.commandId);
      case 'reset_password_tries':
        return () => this.pismo.resetPasswordTries(command.cardId, command.commandId);
      case 'sync_offline_pin':
        return () => this.pismo.syncOfflinePin(command.cardId, command.commandId);
      case 'update_offline_pin': {
        const pin = await decryptPin(command.encryptedPin, this.commandKeys, command);
        const script = { scriptId: command.scriptId, accountId: command.accountId, pin };
        return () => this.pismo.appendPinUpdateScript(command.cardId, script, command.commandId);
      }
    }
  }

  /**
   * Pismo raises update_password-1 with the cid a change sent, answered or not: a change whose answer
   * was lost (a timeout, a crash mid-call) awaits that event instead of failing with OUTCOME_UNKNOWN.
   * Nothing else raises an event that ends its command: the script operations' issuer_script-1 events
   * follow their answer and only report the script's progress.
   */
  outcomeReportedByEvent(command: CommandRef): boolean {
    return command.operation === 'change_pin';
  }

  /** password.changed echoes syncOfflinePin, but it is built from Pismo's event, which does not carry it. */
  details(command: PismoCommand): PismoDetails | undefined {
    return command.operation === 'change_pin' ? { syncOfflinePin: command.syncOfflinePin } : undefined;
  }
}
