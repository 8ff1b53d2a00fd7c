import {
  VaultCheckVerificationCodeCommand,
  vaultCheckVerificationCodeCommand,
  VaultSendVerificationCodeCommand,
  vaultSendVerificationCodeCommand,
  VaultSetPasscodeCommand,
  vaultSetPasscodeCommand,
} from '@pinflow/contracts';
import { sealForCommand, type SecretRecipient } from '@pinflow/pin-crypto';
import { testCommand } from '@pinflow/testing';

/** Vault's card ids are int64s. */
const card = { vendor: 'vault', cardId: '1234435' } as const;

/** For tests: a set_passcode command as intake publishes it, with fresh ids; placeholder JWEs unless given. */
export function setPasscodeCommand(fields: Partial<VaultSetPasscodeCommand> = {}): VaultSetPasscodeCommand {
  return testCommand(vaultSetPasscodeCommand, { ...card, operation: 'set_passcode', encryptedPasscode: 'a.b.c.d.e', encryptedCode: 'a.b.c.d.e', ...fields });
}

/** For tests: a set_passcode command carrying `passcode` and `code` sealed to `keyRing`, as intake seals them. */
export async function sealedPasscodeCommand(keyRing: SecretRecipient, passcode: string, code: string, fields: Partial<VaultSetPasscodeCommand> = {}): Promise<VaultSetPasscodeCommand> {
  const command = setPasscodeCommand(fields);
  return { ...command, encryptedPasscode: await sealForCommand('passcode', passcode, keyRing, command), encryptedCode: await sealForCommand('oneTimeCode', code, keyRing, command) };
}

/** For tests: a send_verification_code command as intake publishes it, with fresh ids. */
export function sendCodeCommand(fields: Partial<VaultSendVerificationCodeCommand> = {}): VaultSendVerificationCodeCommand {
  return testCommand(vaultSendVerificationCodeCommand, { ...card, operation: 'send_verification_code', ...fields });
}

/** For tests: a check_verification_code command carrying `code` sealed to `keyRing`, as intake seals it. */
export async function sealedCheckCodeCommand(keyRing: SecretRecipient, code: string, fields: Partial<VaultCheckVerificationCodeCommand> = {}): Promise<VaultCheckVerificationCodeCommand> {
  const command = testCommand(vaultCheckVerificationCodeCommand, { ...card, operation: 'check_verification_code', encryptedCode: 'a.b.c.d.e', ...fields });
  return { ...command, encryptedCode: await sealForCommand('oneTimeCode', code, keyRing, command) };
}
