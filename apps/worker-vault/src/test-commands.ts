import type { VaultSetPasscodeCommand } from '@pinflow/contracts';
import { encryptSecret, PinKeyRing } from '@pinflow/pin-crypto';
import { randomUUID } from 'node:crypto';

/** For tests: a set_passcode command as intake publishes it, with fresh ids; placeholder JWEs unless given. */
export function setPasscodeCommand(fields: Partial<VaultSetPasscodeCommand> = {}): VaultSetPasscodeCommand {
  return {
    schemaVersion: 1,
    vendor: 'vault',
    operation: 'set_passcode',
    commandId: randomUUID(),
    requestId: randomUUID(),
    cardId: '1234435',
    caller: { subject: 'mobile-backend' },
    issuedAt: new Date().toISOString(),
    encryptedPasscode: 'a.b.c.d.e',
    encryptedCode: 'a.b.c.d.e',
    ...fields,
  };
}

/** For tests: a set_passcode command carrying `passcode` and `code` sealed to `keyRing`, as intake seals them. */
export async function sealedPasscodeCommand(keyRing: PinKeyRing, passcode: string, code: string, fields: Partial<VaultSetPasscodeCommand> = {}): Promise<VaultSetPasscodeCommand> {
  return setPasscodeCommand({ ...fields, encryptedPasscode: await encryptSecret('passcode', passcode, keyRing), encryptedCode: await encryptSecret('oneTimeCode', code, keyRing) });
}
