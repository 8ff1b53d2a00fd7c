import { Inject, Injectable } from '@nestjs/common';
import type { VaultCommand, VaultSetPasscodeCommand } from '@pinflow/contracts';
import { decryptSecret, COMMAND_KEYS, type DecryptionKeys } from '@pinflow/pin-crypto';
import type { OutcomeCheck, VendorAdapter, VendorCall, VendorCallResult } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import { encryptPasscode, RsaPadding } from './vault/passcode-encryption';
import { VaultClient } from './vault/vault-client';
import { VaultKeys } from './vault/vault-keys';

/** How the worker encrypts `passCode` (VAULT_RSA_PADDING). */
export const VAULT_RSA_PADDING = Symbol('VAULT_RSA_PADDING');

/**
 * A gateway's 504 says Vault did not answer in time, not that it did nothing: Vault may have set the
 * passcode behind it (the sandbox's timeout drill answers so). It goes to the kit as the timeout it is,
 * so the code is not sent again, which Vault would refuse as used and pinflow would report as a
 * rejection, and the command fails with OUTCOME_UNKNOWN. Any other 5xx applied nothing: the kit retries it.
 */
function gatewayTimeoutAsTimeout(result: VendorCallResult): VendorCallResult {
  return result.kind === 'answered' && result.status === 504 ? { kind: 'unreachable', cause: 'timeout' } : result;
}

/**
 * Vault's part of the passcode flow: text the cardholder a code, check the code they typed, and set
 * the passcode (decrypt passcode and code, encrypt the passcode to Vault's key, call).
 */
@Injectable()
export class VaultAdapter implements VendorAdapter<VaultCommand> {
  readonly settle = settle;

  constructor(
    private readonly vault: VaultClient,
    private readonly keys: VaultKeys,
    @Inject(COMMAND_KEYS) private readonly commandKeys: DecryptionKeys,
    @Inject(VAULT_RSA_PADDING) private readonly padding: RsaPadding,
  ) {}

  async prepare(command: VaultCommand): Promise<VendorCall> {
    switch (command.operation) {
      case 'set_passcode':
        return this.setPasscode(command);
      case 'send_verification_code':
        // Sent again after a timeout, a second code would replace the one the cardholder may be reading.
        return async () => gatewayTimeoutAsTimeout(await this.vault.sendCode(command.cardId));
      case 'check_verification_code': {
        const code = await decryptSecret('oneTimeCode', command.encryptedCode, this.commandKeys, command);
        return async () => gatewayTimeoutAsTimeout(await this.vault.verifyCode(command.cardId, code));
      }
    }
  }

  /** Checking a code changes nothing at Vault, so a check whose answer was lost is safe to make again. */
  async checkOutcome(command: VaultCommand): Promise<OutcomeCheck> {
    return command.operation === 'check_verification_code' ? { outcome: 'not_applied' } : { outcome: 'unknown' };
  }

  private async setPasscode(command: VaultSetPasscodeCommand): Promise<VendorCall> {
    const passcode = await decryptSecret('passcode', command.encryptedPasscode, this.commandKeys, command);
    const code = await decryptSecret('oneTimeCode', command.encryptedCode, this.commandKeys, command);
    return () =>
      this.keys.withCurrentKey(async (key) =>
        gatewayTimeoutAsTimeout(await this.vault.setPasscode(command.cardId, { keyId: key.id, code, passCode: encryptPasscode(passcode, key.publicKey, this.padding) })),
      );
  }
}
