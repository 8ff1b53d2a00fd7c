import { SolarisChangePinCommand, solarisChangePinCommand } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';

/** A command as intake publishes it, checked against the contract; what a test leaves out is made up. */
export function solarisCommand(fields: Partial<SolarisChangePinCommand> = {}): SolarisChangePinCommand {
  return solarisChangePinCommand.parse({
    schemaVersion: 1,
    vendor: 'solaris',
    operation: 'change_pin',
    commandId: randomUUID(),
    requestId: randomUUID(),
    cardId: 'card-1',
    caller: { subject: 'worker-test' },
    issuedAt: new Date().toISOString(),
    deviceId: 'device-1',
    encryptedPin: 'aaa.bbb.ccc.ddd.eee',
    keyId: 'key-1',
    signature: 'c2lnbmF0dXJl',
    ...fields,
  });
}
