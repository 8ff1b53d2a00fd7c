import { Inject, Injectable } from '@nestjs/common';
import type { VaultSetPasscodeCommand } from '@pinflow/contracts';
import { decryptSecret, PinKeyRing } from '@pinflow/pin-crypto';
import type { Settlement, VendorAdapter, VendorCall, VendorCallResult } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import { encryptPasscode, RsaPadding } from './vault/passcode-encryption';
import { VaultClient } from './vault/vault-client';
import { VaultKeys } from './vault/vault-keys';

/** How the worker encrypts `passCode` (VAULT_RSA_PADDING). */
export const VAULT_RSA_PADDING = Symbol('VAULT_RSA_PADDING');

/** An attempt Vault may have applied without saying so: no answer reached us, or a server error did. */
function mayHaveApplied(result: VendorCallResult): boolean {
  return result.kind === 'unreachable' || (result.kind === 'answered' && result.status >= 500);
}

/** Vault's part of setting a passcode: decrypt passcode and code, encrypt the passcode to Vault's key, call. */
@Injectable()
export class VaultAdapter implements VendorAdapter<VaultSetPasscodeCommand> {
  /** Commands with an attempt Vault may have applied; read (and dropped) when the command settles. */
  private readonly unconfirmed = new Set<string>();

  constructor(
    private readonly vault: VaultClient,
    private readonly keys: VaultKeys,
    private readonly keyRing: PinKeyRing,
    @Inject(VAULT_RSA_PADDING) private readonly padding: RsaPadding,
  ) {}

  async prepare(command: VaultSetPasscodeCommand): Promise<VendorCall> {
    const passcode = await decryptSecret('passcode', command.encryptedPasscode, this.keyRing);
    const code = await decryptSecret('oneTimeCode', command.encryptedCode, this.keyRing);
    return () =>
      this.keys.withCurrentKey(async (key) => {
        const result = await this.vault.setPasscode(command.cardId, { keyId: key.id, code, passCode: encryptPasscode(passcode, key.publicKey, this.padding) });
        if (mayHaveApplied(result)) this.unconfirmed.add(command.commandId);
        return result;
      });
  }

  settle(command: VaultSetPasscodeCommand, result: VendorCallResult): Settlement {
    return settle(command, result, this.unconfirmed.delete(command.commandId));
  }
}
