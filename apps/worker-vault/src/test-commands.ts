import type { VaultCheckVerificationCodeCommand, VaultSendVerificationCodeCommand, VaultSetPasscodeCommand } from '@pinflow/contracts';
import { encryptSecret, PinKeyRing } from '@pinflow/pin-crypto';
import { randomUUID } from 'node:crypto';

/** What every Vault command carries, with fresh ids. */
function envelope() {
  return {
    schemaVersion: 1 as const,
    vendor: 'vault' as const,
    commandId: randomUUID(),
    requestId: randomUUID(),
    cardId: '1234435',
    caller: { subject: 'mobile-backend' },
    issuedAt: new Date().toISOString(),
  };
}

/** For tests: a set_passcode command as intake publishes it, with fresh ids; placeholder JWEs unless given. */
export function setPasscodeCommand(fields: Partial<VaultSetPasscodeCommand> = {}): VaultSetPasscodeCommand {
  return {
    ...envelope(),
    operation: 'set_passcode',
    encryptedPasscode: 'a.b.c.d.e',
    encryptedCode: 'a.b.c.d.e',
    ...fields,
  };
}

/** For tests: a set_passcode command carrying `passcode` and `code` sealed to `keyRing`, as intake seals them. */
export async function sealedPasscodeCommand(keyRing: PinKeyRing, passcode: string, code: string, fields: Partial<VaultSetPasscodeCommand> = {}): Promise<VaultSetPasscodeCommand> {
  return setPasscodeCommand({ ...fields, encryptedPasscode: await encryptSecret('passcode', passcode, keyRing), encryptedCode: await encryptSecret('oneTimeCode', code, keyRing) });
}

/** For tests: a send_verification_code command as intake publishes it, with fresh ids. */
export function sendCodeCommand(fields: Partial<VaultSendVerificationCodeCommand> = {}): VaultSendVerificationCodeCommand {
  return { ...envelope(), operation: 'send_verification_code', ...fields };
}

/** For tests: a check_verification_code command carrying `code` sealed to `keyRing`, as intake seals it. */
export async function sealedCheckCodeCommand(keyRing: PinKeyRing, code: string, fields: Partial<VaultCheckVerificationCodeCommand> = {}): Promise<VaultCheckVerificationCodeCommand> {
  return { ...envelope(), operation: 'check_verification_code', encryptedCode: await encryptSecret('oneTimeCode', code, keyRing), ...fields };
}
