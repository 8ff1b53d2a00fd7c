import { EVENT_TYPES, parseEvent } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';
import { isKnownPismoEvent, KnownPismoEvent, pismoEvent, translatePismoEvent } from './pismo-events';

const envelope = (eventType: string, data: Record<string, unknown>, cid: string | undefined = randomUUID()) => ({
  event_id: randomUUID(),
  domain: 'cards',
  event_type: eventType,
  schema_version: 1,
  org_id: 'TN-1234',
  cid,
  timestamp: '2026-11-23T10:00:00.000Z',
  data,
});

function known(raw: unknown): KnownPismoEvent {
  const event = pismoEvent.parse(raw);
  if (!isKnownPismoEvent(event)) throw new Error('expected a known Pismo event');
  return event;
}

const command = { commandId: randomUUID(), requestId: randomUUID(), cardId: '1234', operation: 'change_pin', syncOfflinePin: true };

describe('pismoEvent (the schema)', () => {
  it('accepts numeric card ids, extra fields and either enum case', () => {
    const event = known(envelope('issuer_script-1', { card_id: 42, script_type: 'sync_pin', script_event_type: 'SCRIPT_APPLIED', customer_id: 7 }));
    expect(event.data).toMatchObject({ card_id: '42', script_type: 'SYNC_PIN', script_event_type: 'script_applied', customer_id: 7 });
  });

  it('accepts a missing or null cid', () => {
    expect(pismoEvent.safeParse(envelope('update-1', { card_id: 1, card_status: 'BLOCKED' }, undefined)).success).toBe(true);
    expect(pismoEvent.safeParse({ ...envelope('update-1', { card_id: 1, card_status: 'BLOCKED' }), cid: null }).success).toBe(true);
  });

  it('lets through event types pinflow does not react to, as such', () => {
    const event = pismoEvent.parse(envelope('create-1', { anything: true }));
    expect(isKnownPismoEvent(event)).toBe(false);
  });

  it.each([
    ['a password event without status', envelope('update_password-1', { card_id: 1 })],
    ['a password event with an unknown status', envelope('update_password-1', { card_id: 1, status: 'MAYBE' })],
    ['a card id pinflow cannot name', envelope('update-1', { card_id: 'a b', card_status: 'BLOCKED' })],
    ['an event without an id', { ...envelope('update-1', { card_id: 1, card_status: 'BLOCKED' }), event_id: undefined }],
  ])('refuses %s', (_case, raw) => {
    expect(pismoEvent.safeParse(raw).success).toBe(false);
  });
});

describe('translatePismoEvent', () => {
  it('turns a correlated password SUCCESS into password.changed for the request, settling the command', () => {
    const pismo = known(envelope('update_password-1', { card_id: 1234, status: 'success' }));
    const translation = translatePismoEvent(pismo, command);
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.settles).toBe('SUCCEEDED');
    expect(parseEvent(translation.event)).toEqual({
      specversion: '1.0',
      id: expect.any(String),
      source: '/pinflow/worker-pismo',
      type: EVENT_TYPES.passwordChanged,
      subject: '1234',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: { vendor: 'pismo', vendorEventId: pismo.event_id, requestId: command.requestId, commandId: command.commandId, syncOfflinePin: true },
    });
  });

  it('turns a correlated password FAILURE into a VENDOR_REJECTED failure of the request', () => {
    const translation = translatePismoEvent(known(envelope('update_password-1', { card_id: 1234, status: 'FAILURE' })), command);
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.settles).toBe('FAILED');
    expect(translation.event).toMatchObject({ type: EVENT_TYPES.failed, data: { reason: 'VENDOR_REJECTED', operation: 'change_pin', requestId: command.requestId } });
  });

  it('names the operation that failed: a PIN block Pismo could not verify fails update_pin_block', () => {
    const translation = translatePismoEvent(known(envelope('update_password-1', { card_id: 1234, status: 'FAILURE' })), { ...command, operation: 'update_pin_block' });
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.event).toMatchObject({ type: EVENT_TYPES.failed, data: { reason: 'VENDOR_REJECTED', operation: 'update_pin_block' } });
  });

  it('skips a password FAILURE that matches no command: there is no request to fail', () => {
    expect(translatePismoEvent(known(envelope('update_password-1', { card_id: 1234, status: 'FAILURE' })))).toEqual({ skip: expect.any(String) });
  });

  it('reports an issuer script with its type and status', () => {
    const translation = translatePismoEvent(known(envelope('issuer_script-1', { card_id: 1234, script_type: 'SYNC_PIN', script_event_type: 'script_created' })), command);
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.settles).toBeUndefined();
    expect(translation.event).toMatchObject({ type: EVENT_TYPES.issuerScriptRequested, data: { scriptType: 'SYNC_PIN', scriptStatus: 'script_created', requestId: command.requestId } });
  });

  it('reports a block Pismo raised by itself without request ids', () => {
    const translation = translatePismoEvent(known(envelope('update-1', { card_id: 77, card_status: 'BLOCKED', card_previous_status: 'normal' }, undefined)));
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.event).toMatchObject({ type: EVENT_TYPES.cardBlocked, subject: '77', data: { vendor: 'pismo', previousStatus: 'NORMAL' } });
    expect(translation.event.data).not.toHaveProperty('requestId');
    expect(translation.event.data).not.toHaveProperty('commandId');
  });

  it('skips card updates other than a block', () => {
    expect(translatePismoEvent(known(envelope('update-1', { card_id: 77, card_status: 'NORMAL', card_previous_status: 'BLOCKED' })))).toEqual({ skip: expect.any(String) });
  });

  it('derives the pinflow event id from Pismo’s event id alone, so Pismo’s redeliveries dedupe', () => {
    const raw = envelope('update-1', { card_id: 77, card_status: 'BLOCKED' });
    const first = translatePismoEvent(known(raw));
    const again = translatePismoEvent(known(raw), command);
    const other = translatePismoEvent(known({ ...raw, event_id: randomUUID() }));
    if (!('event' in first) || !('event' in again) || !('event' in other)) throw new Error('expected events');
    expect(again.event.id).toBe(first.event.id);
    expect(other.event.id).not.toBe(first.event.id);
  });

  it('names the card as the correlated command does', () => {
    const translation = translatePismoEvent(known(envelope('update-1', { card_id: 99, card_status: 'BLOCKED' })), { ...command, cardId: 'card-abc' });
    if (!('event' in translation)) throw new Error(translation.skip);
    expect(translation.event.subject).toBe('card-abc');
  });
});
