import { EVENT_TYPES, parseEvent, PismoCommand, pismoChangePinCommand, pismoCommand, pismoIncreasePasswordTriesCommand, pismoResetPasswordTriesCommand, pismoUpdatePinBlockCommand } from '@pinflow/contracts';
import { testCommand } from '@pinflow/testing';
import { COMMAND_STATES, VendorCallResult } from '@pinflow/worker-kit';
import { settle } from './outcomes';

const answered = (status: number, body = ''): VendorCallResult => ({ kind: 'answered', status, body });

const changePin = () => testCommand(pismoChangePinCommand, { vendor: 'pismo', operation: 'change_pin', encryptedPin: 'a.b.c.d.e', syncOfflinePin: true });
const increaseTries = () => testCommand(pismoIncreasePasswordTriesCommand, { vendor: 'pismo', operation: 'increase_password_tries', blockCardExceedsCounter: true });
const resetTries = () => testCommand(pismoResetPasswordTriesCommand, { vendor: 'pismo', operation: 'reset_password_tries' });

describe('settle', () => {
  it('waits for Pismo’s event after a 201 to a PIN change, correlating on the x-cid it sent (the command id)', () => {
    const command = changePin();
    expect(settle(command, answered(201, `"[${command.commandId}] Card updated"`))).toEqual({
      state: COMMAND_STATES.awaitingVendorEvent,
      correlationId: command.commandId,
      vendorStatus: 201,
    });
  });

  it('waits for Pismo’s event after a 204 to a PIN block, as after a change: update_password-1 tells whether the block was read', () => {
    const command = testCommand(pismoUpdatePinBlockCommand, { vendor: 'pismo', operation: 'update_pin_block', encryptedPin: 'a.b.c.d.e', encryptedPan: 'a.b.c.d.e', syncOfflinePin: false });
    expect(settle(command, answered(204))).toEqual({ state: COMMAND_STATES.awaitingVendorEvent, correlationId: command.commandId, vendorStatus: 204 });
  });

  it.each([
    ['the example of Pismo’s published OpenAPI', '"[:correlationId] Card updated"'],
    ['another cid', '"[other-cid] Card updated"'],
    ['no cid', '"Card updated"'],
    ['an empty body', ''],
  ])('ignores a 201 answer naming %s: the cid it sent is what Pismo’s event carries', (_case, body) => {
    const command = changePin();
    expect(settle(command, answered(201, body))).toMatchObject({ correlationId: command.commandId });
  });

  it('succeeds a tries increase on its 200 with the password_tries.increased event', () => {
    const command = increaseTries();
    const settlement = settle(command, answered(200, '{"success":"Incremented password tries counter"}'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 200 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.passwordTriesIncreased,
      source: '/pinflow/worker-pismo',
      subject: 'card-1',
      data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, blockCardExceedsCounter: true },
    });
  });

  it('succeeds a tries reset on its 200 with the password_tries.reset event', () => {
    const command = resetTries();
    const settlement = settle(command, answered(200, '{"success":true}'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.succeeded, vendorStatus: 200 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(parseEvent(settlement.event)).toMatchObject({
      type: EVENT_TYPES.passwordTriesReset,
      subject: 'card-1',
      data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId },
    });
  });

  it.each<[string, PismoCommand, string, Record<string, unknown>]>([
    ['an offline PIN sync on its 204', testCommand(pismoCommand, { vendor: 'pismo', operation: 'sync_offline_pin' }), '', { scriptType: 'SYNC_PIN' }],
    [
      'a PIN update script on its 200, naming the card script Pismo created',
      testCommand(pismoCommand, { vendor: 'pismo', operation: 'update_offline_pin', encryptedPin: 'a.b.c.d.e', scriptId: 'issuer-script-1', accountId: '8675309' }),
      '{"card_script_id":"11a10bff","script_id":"issuer-script-1","applied":false}',
      { scriptType: 'PIN_UPDATE', cardScriptId: '11a10bff' },
    ],
    [
      'a PIN update script whose answer names no card script',
      testCommand(pismoCommand, { vendor: 'pismo', operation: 'update_offline_pin', encryptedPin: 'a.b.c.d.e', scriptId: 'issuer-script-1', accountId: '8675309' }),
      '{}',
      { scriptType: 'PIN_UPDATE' },
    ],
  ])('succeeds %s with issuer_script.appended', (_case, command, body, data) => {
    const settlement = settle(command, answered(body ? 200 : 204, body));
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.state).toBe(COMMAND_STATES.succeeded);
    expect(parseEvent(settlement.event)).toMatchObject({ type: EVENT_TYPES.issuerScriptAppended, data: { requestId: command.requestId, commandId: command.commandId, ...data } });
    expect(Object.keys(settlement.event.data)).toEqual(expect.arrayContaining(Object.keys(data)));
  });

  it('fails a tries reset Pismo refuses for the card’s status (406) as a rejection', () => {
    const settlement = settle(resetTries(), answered(406, '{"message":"Cannot reset the password tries of a card in status CREATED"}'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.failed, vendorStatus: 406 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event.data).toMatchObject({ reason: 'VENDOR_REJECTED', operation: 'reset_password_tries', vendorStatus: 406 });
  });

  it('fails with the vendor status and a summary of Pismo’s error', () => {
    const command = changePin();
    const settlement = settle(command, answered(404, '{"code":"CARD404","message":"Card not found"}'));
    expect(settlement).toMatchObject({ state: COMMAND_STATES.failed, vendorStatus: 404 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event).toMatchObject({
      type: EVENT_TYPES.failed,
      data: { reason: 'CARD_NOT_FOUND', vendorStatus: 404, vendorError: { code: 'CARD404', detail: 'Card not found' }, operation: 'change_pin' },
    });
  });

  it('fails without a vendor status when Pismo never answered', () => {
    const settlement = settle(increaseTries(), { kind: 'unreachable', cause: 'timeout' });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event.data).toMatchObject({ reason: 'VENDOR_UNAVAILABLE' });
    expect(settlement.event.data).not.toHaveProperty('vendorStatus');
  });
});
