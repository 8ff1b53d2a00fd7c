import { EVENT_TYPES, parseEvent, ThalesD1ChangePinCommand, thalesD1ChangePinCommand } from '@pinflow/contracts';
import { testCommand } from '@pinflow/testing';
import { COMMAND_STATES, VendorCallResult } from '@pinflow/worker-kit';
import { settle } from './outcomes';

const answered = (status: number, body = ''): VendorCallResult => ({ kind: 'answered', status, body });
const cmsError = (status: number, errorCode: string, errorMessage = 'The rule that was broken') => answered(status, JSON.stringify({ errorCode, errorMessage }));

const command = (): ThalesD1ChangePinCommand =>
  testCommand(thalesD1ChangePinCommand, { vendor: 'thales-d1', operation: 'change_pin', issuerId: 'ISSUER0001', pinBlockFormat: 'ISO0', encryptedPin: 'a.b.c.d.e', encryptedPan: 'a.b.c.d.e' });

function failure(result: VendorCallResult) {
  const settlement = settle(command(), result);
  expect(settlement.state).toBe(COMMAND_STATES.failed);
  if (!('event' in settlement)) throw new Error('expected an event');
  expect(settlement.event.type).toBe(EVENT_TYPES.failed);
  return settlement.event.data;
}

describe('settle', () => {
  it('takes the CMS’s 204 for the PIN changed: password.changed for the request', () => {
    const changePin = command();
    const settlement = settle(changePin, answered(204));

    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 204 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.passwordChanged,
      source: '/pinflow/worker-thales-d1',
      subject: 'card-1',
      data: { vendor: 'thales-d1', requestId: changePin.requestId, commandId: changePin.commandId },
    });
  });

  it.each([
    [404, 'CARD_NOT_FOUND', 'CARD_NOT_FOUND'],
    [404, 'ISSUER_NOT_FOUND', 'CARD_NOT_FOUND'],
    [400, 'INVALID_PIN_BLOCK', 'VENDOR_REJECTED'],
    [400, 'INVALID_ENCRYPTED_PIN_BLOCK', 'VENDOR_REJECTED'],
    [403, 'CARD_DEACTIVATED', 'VENDOR_REJECTED'],
    [409, 'STALE_CHANGE_COUNTER', 'VENDOR_REJECTED'],
    [500, 'INTERNAL', 'VENDOR_UNAVAILABLE'],
    [503, 'UNAVAILABLE', 'VENDOR_UNAVAILABLE'],
    [502, 'UNREADABLE_CHANGE_COUNTER', 'VENDOR_UNAVAILABLE'],
  ])('fails a %i %s with %s, keeping the CMS’s error code and status', (status, errorCode, reason) => {
    expect(failure(cmsError(status, errorCode))).toMatchObject({ reason, vendorStatus: status, vendorError: { code: errorCode }, operation: 'change_pin' });
  });

  it('masks digit runs in what the CMS says, in case it quoted the request', () => {
    expect(JSON.stringify(failure(cmsError(400, 'INVALID_PIN_BLOCK', 'PAN 4761739001010119 does not match')))).not.toContain('4761739001010119');
  });

  it('fails with VENDOR_UNAUTHORIZED when the CMS refuses pinflow’s client credentials', () => {
    expect(failure({ kind: 'token_refused', status: 401 })).toMatchObject({ reason: 'VENDOR_UNAUTHORIZED', vendorStatus: 401 });
  });

  it('fails with VENDOR_UNAVAILABLE and no vendor status when the CMS never answered', () => {
    const data = failure({ kind: 'unreachable', cause: 'timeout' });
    expect(data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE' });
    expect(data).not.toHaveProperty('vendorStatus');
  });
});
