import { SolarisChangePinCommand, solarisChangePinCommand } from '@pinflow/contracts';
import { testCommand } from '@pinflow/testing';

/** A command as intake publishes it, checked against the contract; what a test leaves out is made up. */
export function solarisCommand(fields: Partial<SolarisChangePinCommand> = {}): SolarisChangePinCommand {
  return testCommand(solarisChangePinCommand, {
    vendor: 'solaris',
    operation: 'change_pin',
    deviceId: 'device-1',
    encryptedPin: 'aaa.bbb.ccc.ddd.eee',
    keyId: 'key-1',
    signature: 'c2lnbmF0dXJl',
    ...fields,
  });
}
