import { EVENT_TYPES, parseEvent } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';
import { commandEvent, failedEvent, failedSettlement, failureReasonFor, vendorEventId } from './outcomes';
import type { VendorCallResult } from '@pinflow/vendor-http';

const answered = (status: number, body = ''): VendorCallResult => ({ kind: 'answered', status, body });

const commandRef = () => ({ vendor: 'vault' as const, commandId: randomUUID(), requestId: randomUUID(), cardId: '4711', operation: 'set_passcode' });

describe('failureReasonFor', () => {
  it.each([
    [answered(404), 'CARD_NOT_FOUND'],
    [answered(401), 'VENDOR_UNAUTHORIZED'],
    [{ kind: 'token_refused', status: 400 } as VendorCallResult, 'VENDOR_UNAUTHORIZED'],
    [answered(400), 'VENDOR_REJECTED'],
    [answered(403), 'VENDOR_REJECTED'],
    [answered(422), 'VENDOR_REJECTED'],
    [answered(302), 'VENDOR_REJECTED'],
    [answered(500), 'VENDOR_UNAVAILABLE'],
    [answered(429), 'VENDOR_UNAVAILABLE'],
    [{ kind: 'unreachable', cause: 'timeout' } as VendorCallResult, 'VENDOR_UNAVAILABLE'],
    [{ kind: 'unreachable', cause: 'connection' } as VendorCallResult, 'VENDOR_UNAVAILABLE'],
  ])('maps %j to %s', (result, reason) => {
    expect(failureReasonFor(result)).toBe(reason);
  });
});

describe('commandEvent', () => {
  it('names the vendor, request and command, with the worker as source and the card as subject', () => {
    const command = commandRef();
    expect(parseEvent(commandEvent(EVENT_TYPES.passwordChanged, command, {}))).toMatchObject({
      source: '/pinflow/worker-vault',
      subject: '4711',
      type: EVENT_TYPES.passwordChanged,
      data: { vendor: 'vault', requestId: command.requestId, commandId: command.commandId },
    });
  });

  it('gives the same event of the same command the same id, so an outcome built again dedupes', () => {
    const command = commandRef();
    expect(commandEvent(EVENT_TYPES.passwordChanged, command, {}).id).toBe(commandEvent(EVENT_TYPES.passwordChanged, command, {}).id);
    expect(commandEvent(EVENT_TYPES.passwordChanged, command, {}).id).not.toBe(commandEvent(EVENT_TYPES.passwordTriesIncreased, command, {}).id);
  });
});

describe('failedSettlement', () => {
  it('fails with the reason HTTP gives, the vendor status and a PIN-free summary of the error', () => {
    const settlement = failedSettlement(commandRef(), answered(400, '{"error":"COMMON","message":"passcode 4711 rejected"}'));
    expect(settlement).toMatchObject({ state: 'FAILED', vendorStatus: 400 });
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event.data).toMatchObject({ reason: 'VENDOR_REJECTED', vendorStatus: 400, vendorError: { title: 'COMMON', detail: 'passcode [digits] rejected' } });
  });

  it('takes the reason from the vendor adapter when it knows better than HTTP', () => {
    const settlement = failedSettlement(commandRef(), answered(400, '{"code":"card_unknown"}'), 'CARD_NOT_FOUND');
    if (!('event' in settlement)) throw new Error('expected an event');
    expect(settlement.event.data).toMatchObject({ reason: 'CARD_NOT_FOUND', vendorStatus: 400 });
  });
});

describe('vendorEventId', () => {
  it('depends on the vendor and its event id only', () => {
    expect(vendorEventId('pismo', 'e1')).toBe(vendorEventId('pismo', 'e1'));
    expect(vendorEventId('pismo', 'e1')).not.toBe(vendorEventId('vault', 'e1'));
    expect(vendorEventId('pismo', 'e1')).not.toBe(vendorEventId('pismo', 'e2'));
  });
});

describe('failedEvent', () => {
  it('gives the same outcome of the same command the same id, so a republished outcome dedupes', () => {
    const command = { vendor: 'pismo' as const, commandId: randomUUID(), requestId: randomUUID(), cardId: 'card-1', operation: 'change_pin' };
    expect(failedEvent(command, 'OUTCOME_UNKNOWN').id).toBe(failedEvent(command, 'OUTCOME_UNKNOWN').id);
    expect(failedEvent(command, 'OUTCOME_UNKNOWN').id).not.toBe(failedEvent(command, 'VENDOR_REJECTED').id);
    expect(failedEvent(command, 'OUTCOME_UNKNOWN').id).not.toBe(failedEvent({ ...command, commandId: randomUUID() }, 'OUTCOME_UNKNOWN').id);
  });
});
