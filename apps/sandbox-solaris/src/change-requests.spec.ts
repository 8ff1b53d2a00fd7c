import { VendorError } from '@pinflow/sandbox-kit';
import { ChangeRequests } from './change-requests';
import type { PinUpdateRequest, PinUpdates } from './pin-update';
import type { Card } from './registry';

const TTL_MS = 5 * 60_000;
const REQUEST: PinUpdateRequest = { device_id: 'device-1', encrypted_pin: 'a.b.c.d.e', key_id: 'key-1', signature: 'sig' };
const SMS = { person_id: 'person-1', delivery_method: 'mobile_number' } as const;

/** The checks PinUpdates makes are its own spec's business: here every request passes them. */
function setUp() {
  const card: Card = { cardId: 'card-1', personId: 'person-1', status: 'ACTIVE', pinChanges: 0 };
  const applied: string[] = [];
  const pinUpdates = {
    cardOf: () => card,
    checkedPin: () => '8264',
    apply: (target: Card, _hash: unknown, encryptedPin: string) => {
      target.pinChanges += 1;
      applied.push(encryptedPin);
    },
  } as unknown as PinUpdates;
  const changeRequests = new ChangeRequests(pinUpdates, TTL_MS);
  const tanOf = (id: string) => changeRequests.textsTo('person-1').find((text) => text.changeRequestId === id)!.tan;
  return { card, applied, changeRequests, tanOf };
}

function refusal(run: () => unknown): { status: number; code: string; field?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof VendorError) return { status: error.status, code: error.code, ...(error.field ? { field: error.field } : {}) };
    throw error;
  }
  throw new Error('expected a Solaris error');
}

describe('Solaris’ PIN change requests', () => {
  it('hold the PIN until authorized and confirmed with the texted TAN, then apply it once', () => {
    const { card, applied, changeRequests, tanOf } = setUp();
    const created = changeRequests.create('card-1', REQUEST);
    expect(created).toMatchObject({ status: 'AUTHORIZATION_REQUIRED', url: `/v1/change_requests/${created.id}/authorize` });

    expect(changeRequests.authorize(created.id, SMS)).toMatchObject({ status: 'CONFIRMATION_REQUIRED', url: `/v1/change_requests/${created.id}/confirm` });
    expect(tanOf(created.id)).toMatch(/^[0-9]{6}$/);
    expect(card.pinChanges).toBe(0);

    expect(changeRequests.confirm(created.id, { person_id: 'person-1', tan: tanOf(created.id) })).toMatchObject({ status: 'COMPLETED', response_code: 201 });
    expect(applied).toEqual([REQUEST.encrypted_pin]);
  });

  it('refuse confirming before authorizing', () => {
    const { changeRequests } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: '000000' }))).toEqual({ status: 400, code: 'validation_error' });
  });

  it('refuse a wrong TAN and stay open for the right one', () => {
    const { applied, changeRequests, tanOf } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    changeRequests.authorize(id, SMS);
    const wrong = tanOf(id) === '000000' ? '111111' : '000000';
    expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: wrong }))).toEqual({ status: 422, code: 'invalid_tan', field: 'tan' });
    expect(applied).toEqual([]);
    expect(changeRequests.confirm(id, { person_id: 'person-1', tan: tanOf(id) }).status).toBe('COMPLETED');
  });

  it('answer replays as the first time: no second TAN, no second change', () => {
    const { applied, changeRequests, tanOf } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    changeRequests.authorize(id, SMS);
    changeRequests.authorize(id, SMS);
    expect(changeRequests.textsTo('person-1')).toHaveLength(1);
    const confirmation = { person_id: 'person-1', tan: tanOf(id) };
    expect(changeRequests.confirm(id, confirmation).status).toBe('COMPLETED');
    expect(changeRequests.confirm(id, confirmation).status).toBe('COMPLETED');
    expect(applied).toHaveLength(1);
  });

  it('refuse another person', () => {
    const { changeRequests } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    expect(refusal(() => changeRequests.authorize(id, { ...SMS, person_id: 'person-2' }))).toEqual({ status: 403, code: 'unauthorized_action' });
  });

  it('FAIL once their lifetime is over, and answer 410 from then on, the right TAN included', () => {
    const { applied, changeRequests, tanOf } = setUp();
    const start = new Date('2026-01-01T00:00:00Z');
    const { id } = changeRequests.create('card-1', REQUEST, start);
    changeRequests.authorize(id, SMS, start);
    const late = new Date(start.getTime() + TTL_MS);
    expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: tanOf(id) }, late))).toEqual({ status: 410, code: 'change_request_expired' });
    expect(changeRequests.view(id, late).status).toBe('FAILED');
    expect(applied).toEqual([]);
  });

  it('keep a completed change request COMPLETED when its lifetime ends', () => {
    const { changeRequests, tanOf } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    changeRequests.authorize(id, SMS);
    changeRequests.confirm(id, { person_id: 'person-1', tan: tanOf(id) });
    expect(changeRequests.expire(id).status).toBe('COMPLETED');
    expect(changeRequests.view(id).status).toBe('COMPLETED');
  });

  it('do not exist for Solaris once unknown', () => {
    const { changeRequests } = setUp();
    expect(refusal(() => changeRequests.authorize('nope', SMS))).toEqual({ status: 404, code: 'model_not_found' });
  });
});
