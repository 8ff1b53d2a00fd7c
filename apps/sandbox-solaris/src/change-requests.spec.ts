import { VendorError } from '@pinflow/sandbox-kit';
import { SolarisDevice } from '@pinflow/testing';
import { ChangeRequests, MAX_WRONG_CONFIRMATIONS } from './change-requests';
import { deviceKeyFromHex } from './device-signature';
import type { PinUpdateRequest, PinUpdates } from './pin-update';
import { Card, SolarisRegistry } from './registry';

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
  const registry = new SolarisRegistry();
  const device = new SolarisDevice('device-1');
  registry.bindDevice('person-1', device.id, 'restricted', deviceKeyFromHex(device.publicKeyHex));
  const changeRequests = new ChangeRequests(pinUpdates, registry, TTL_MS);
  const tanOf = (id: string) => changeRequests.textsTo('person-1').find((text) => text.changeRequestId === id)!.tan;
  return { card, applied, changeRequests, tanOf, device, registry };
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

  it(`FAIL with the ${MAX_WRONG_CONFIRMATIONS} wrong TANs they take, and answer 410 too_many_wrong_confirmations from then on, the right TAN included`, () => {
    const { applied, changeRequests, tanOf } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    changeRequests.authorize(id, SMS);
    const wrong = { person_id: 'person-1', tan: tanOf(id) === '000000' ? '111111' : '000000' };

    for (let attempt = 1; attempt < MAX_WRONG_CONFIRMATIONS; attempt += 1) expect(refusal(() => changeRequests.confirm(id, wrong))).toMatchObject({ status: 422, code: 'invalid_tan' });
    expect(refusal(() => changeRequests.confirm(id, wrong))).toEqual({ status: 410, code: 'too_many_wrong_confirmations' });

    expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: tanOf(id) }))).toEqual({ status: 410, code: 'too_many_wrong_confirmations' });
    expect(refusal(() => changeRequests.authorize(id, SMS))).toEqual({ status: 410, code: 'too_many_wrong_confirmations' });
    expect(changeRequests.view(id).status).toBe('FAILED');
    expect(applied).toEqual([]);
  });

  it('count wrong device signatures as wrong TANs, but not a confirmation of the wrong kind', () => {
    const { changeRequests, device } = setUp();
    const { id } = changeRequests.create('card-1', REQUEST);
    changeRequests.authorize(id, { person_id: 'person-1', delivery_method: 'device_signing', device_id: device.id });
    const forged = { person_id: 'person-1', device_signature: { signature: device.sign('not the string to sign') } };

    for (let attempt = 0; attempt < 5; attempt += 1) expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: '123456' }))).toMatchObject({ status: 400 });
    for (let attempt = 1; attempt < MAX_WRONG_CONFIRMATIONS; attempt += 1) expect(refusal(() => changeRequests.confirm(id, forged))).toMatchObject({ status: 422, code: 'invalid_signature' });
    expect(refusal(() => changeRequests.confirm(id, forged))).toEqual({ status: 410, code: 'too_many_wrong_confirmations' });
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

  describe('confirmed by device signing', () => {
    const BY_DEVICE = { person_id: 'person-1', delivery_method: 'device_signing', device_id: 'device-1' } as const;

    it('hand the device a string to sign, text nothing, and apply the PIN once the bound device signed it', () => {
      const { applied, changeRequests, device } = setUp();
      const { id } = changeRequests.create('card-1', REQUEST);
      const authorized = changeRequests.authorize(id, BY_DEVICE);
      expect(authorized).toMatchObject({ status: 'CONFIRMATION_REQUIRED', string_to_sign: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(changeRequests.textsTo('person-1')).toEqual([]);

      const confirmed = changeRequests.confirm(id, { person_id: 'person-1', device_signature: { signature: device.sign(authorized.string_to_sign!) } });

      expect(confirmed.status).toBe('COMPLETED');
      expect(confirmed).not.toHaveProperty('string_to_sign');
      expect(applied).toHaveLength(1);
    });

    it('refuse a signature by another device, and a TAN in place of a signature', () => {
      const { applied, changeRequests } = setUp();
      const { id } = changeRequests.create('card-1', REQUEST);
      const { string_to_sign } = changeRequests.authorize(id, BY_DEVICE);
      const forged = { person_id: 'person-1', device_signature: { signature: new SolarisDevice().sign(string_to_sign!) } };
      expect(refusal(() => changeRequests.confirm(id, forged))).toEqual({ status: 422, code: 'invalid_signature', field: 'device_signature.signature' });
      expect(refusal(() => changeRequests.confirm(id, { person_id: 'person-1', tan: '123456' }))).toEqual({ status: 400, code: 'validation_error', field: 'device_signature' });
      expect(applied).toEqual([]);
    });

    it('refuse a device that is not the person’s', () => {
      const { changeRequests, registry } = setUp();
      const stranger = new SolarisDevice('device-2');
      registry.bindDevice('person-2', stranger.id, 'restricted', deviceKeyFromHex(stranger.publicKeyHex));
      const { id } = changeRequests.create('card-1', REQUEST);
      expect(refusal(() => changeRequests.authorize(id, { ...BY_DEVICE, device_id: stranger.id }))).toEqual({ status: 403, code: 'unauthorized_action' });
    });
  });

  it('do not exist for Solaris once unknown', () => {
    const { changeRequests } = setUp();
    expect(refusal(() => changeRequests.authorize('nope', SMS))).toEqual({ status: 404, code: 'model_not_found' });
  });
});
