import {
  SolarisChangePinCommand,
  solarisChangePinCommand,
  SolarisChangePinRequestCommand,
  solarisChangePinRequestCommand,
  SolarisConfirmChangeRequestCommand,
  solarisConfirmChangeRequestCommand,
  SolarisSignChangeRequestCommand,
  solarisSignChangeRequestCommand,
} from '@pinflow/contracts';
import { testCommand } from '@pinflow/testing';

const deviceMade = { deviceId: 'device-1', encryptedPin: 'aaa.bbb.ccc.ddd.eee', keyId: 'key-1', signature: 'c2lnbmF0dXJl' };

/** A command as intake publishes it, checked against the contract; what a test leaves out is made up. */
export function solarisCommand(fields: Partial<SolarisChangePinCommand> = {}): SolarisChangePinCommand {
  return testCommand(solarisChangePinCommand, { vendor: 'solaris', operation: 'change_pin', ...deviceMade, ...fields });
}

export function changePinRequestCommand(fields: Partial<SolarisChangePinRequestCommand> = {}): SolarisChangePinRequestCommand {
  return testCommand(solarisChangePinRequestCommand, { vendor: 'solaris', operation: 'change_pin_request', ...deviceMade, personId: 'person-1', deliveryMethod: 'mobile_number', ...fields });
}

export function confirmChangeRequestCommand(fields: Partial<SolarisConfirmChangeRequestCommand> = {}): SolarisConfirmChangeRequestCommand {
  return testCommand(solarisConfirmChangeRequestCommand, {
    vendor: 'solaris',
    operation: 'confirm_change_request',
    changeRequestId: 'cr-1',
    personId: 'person-1',
    encryptedTan: 'aaa.bbb.ccc.ddd.eee',
    ...fields,
  });
}

export function signChangeRequestCommand(fields: Partial<SolarisSignChangeRequestCommand> = {}): SolarisSignChangeRequestCommand {
  return testCommand(solarisSignChangeRequestCommand, { vendor: 'solaris', operation: 'sign_change_request', changeRequestId: 'cr-1', personId: 'person-1', signature: 'c2lnbmF0dXJl', ...fields });
}
