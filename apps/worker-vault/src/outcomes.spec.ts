import { EventData, EVENT_TYPES, parseEvent } from '@pinflow/contracts';
import { COMMAND_STATES, Settlement, VendorCallResult } from '@pinflow/worker-kit';
import { settle } from './outcomes';
import { sendCodeCommand, setPasscodeCommand } from './test-commands';

const answered = (status: number, body: unknown): VendorCallResult => ({ kind: 'answered', status, body: typeof body === 'string' ? body : JSON.stringify(body) });
const vaultError = (status: number, error: string, message: string, field?: string) =>
  answered(status, { error, errorId: 30, message, ...(field ? { field } : {}), systemId: 'vault' });

const command = () => setPasscodeCommand();

/** The failed event's data, as consumers parse it under the contract. */
function failure(settlement: Settlement): EventData<typeof EVENT_TYPES.failed> {
  expect(settlement.state).toBe(COMMAND_STATES.failed);
  if (!('event' in settlement)) throw new Error('expected an event');
  const event = parseEvent(settlement.event);
  if (event.type !== EVENT_TYPES.failed) throw new Error(`expected a failed event, got ${event.type}`);
  return event.data;
}

describe('settle', () => {
  it('succeeds on Vault’s 200 with password.changed: the passcode is the card’s password', () => {
    const passcode = command();
    const settlement = settle(passcode, answered(200, { result: 'ok' }));

    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 200 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.passwordChanged,
      source: '/pinflow/worker-vault',
      subject: '1234435',
      data: { vendor: 'vault', requestId: passcode.requestId, commandId: passcode.commandId },
    });
  });

  it.each([
    ['send_verification_code', EVENT_TYPES.verificationCodeSent],
    ['check_verification_code', EVENT_TYPES.verificationCodeChecked],
  ] as const)('succeeds %s on Vault’s 200 with %s', (operation, type) => {
    const step = { ...sendCodeCommand(), operation, encryptedCode: 'a.b.c.d.e' };
    const settlement = settle(step, answered(200, { result: 'ok' }));

    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 200 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({ type, subject: '1234435', data: { vendor: 'vault', requestId: step.requestId, commandId: step.commandId } });
  });

  it('rejects a code check Vault refuses, naming the operation and Vault’s code', () => {
    const step = { ...sendCodeCommand(), operation: 'check_verification_code' as const, encryptedCode: 'a.b.c.d.e' };
    expect(failure(settle(step, vaultError(400, 'CODE_EXPIRED', 'The code has expired', 'code')))).toMatchObject({
      operation: 'check_verification_code',
      reason: 'VENDOR_REJECTED',
      vendorError: { code: 'CODE_EXPIRED', field: 'code' },
    });
  });

  it.each([
    ['CODE_INVALID', 'The code is not the one sent to the cardholder', 'code'],
    ['CODE_ALREADY_USED', 'The code was already used', 'code'],
    ['CODE_EXPIRED', 'The code has expired', 'code'],
    ['PASSCODE_TOO_WEAK', 'No digit may appear three times in a row', 'passCode'],
    ['CARD_CLOSED', 'The card is closed', 'id'],
  ])('rejects on %s, keeping Vault’s code, message and field', (error, message, field) => {
    const passcode = command();
    const data = failure(settle(passcode, vaultError(400, error, message, field)));

    expect(data).toEqual({
      vendor: 'vault',
      requestId: passcode.requestId,
      commandId: passcode.commandId,
      operation: 'set_passcode',
      reason: 'VENDOR_REJECTED',
      vendorStatus: 400,
      vendorError: { code: error, detail: message, field },
    });
  });

  it.each([404, 400])('fails with CARD_NOT_FOUND on Vault’s CARD_NOT_FOUND, whatever the status (%i)', (status) => {
    expect(failure(settle(command(), vaultError(status, 'CARD_NOT_FOUND', 'Card not found', 'id')))).toMatchObject({
      reason: 'CARD_NOT_FOUND',
      vendorStatus: status,
      vendorError: { code: 'CARD_NOT_FOUND', field: 'id' },
    });
  });

  it('fails with VENDOR_UNAVAILABLE on a 5xx, keeping Vault’s COMMON error', () => {
    const message = "Sorry for inconvenience. We're fixing the issue. If you have urgent questions, contact support";
    expect(failure(settle(command(), vaultError(500, 'COMMON', message)))).toEqual(
      expect.objectContaining({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { code: 'COMMON', detail: message } }),
    );
  });

  it('fails with VENDOR_UNAVAILABLE and no status when Vault could not be reached', () => {
    const data = failure(settle(command(), { kind: 'unreachable', cause: 'connection' }));
    expect(data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE' });
    expect(data).not.toHaveProperty('vendorStatus');
  });

  it('masks digit runs in Vault’s message, in case a Vault echoes the code or passcode it was sent', () => {
    const data = failure(settle(command(), vaultError(400, 'CODE_INVALID', 'Code 482913 does not match for passcode 0739', 'code')));
    expect(data.vendorError?.detail).toBe('Code [digits] does not match for passcode [digits]');
  });

  it('drops a field that is not a field name', () => {
    const data = failure(settle(command(), vaultError(400, 'VALIDATION_ERROR', 'Invalid', 'code=482913')));
    expect(data.vendorError).toEqual({ code: 'VALIDATION_ERROR', detail: 'Invalid' });
  });

  it('summarizes an answer that is not in Vault’s shape as any vendor’s', () => {
    expect(failure(settle(command(), answered(502, '<html>Bad gateway</html>')))).toMatchObject({
      reason: 'VENDOR_UNAVAILABLE',
      vendorStatus: 502,
      vendorError: { detail: '<html>Bad gateway</html>' },
    });
  });
});
