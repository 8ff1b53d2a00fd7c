import { VendorError } from '@pinflow/sandbox-kit';
import { Card } from './card';
import type { PinBlockJson } from './pin-block-json';

const PAN = '4761739001010119';
const iso0: PinBlockJson = { format: 'ISO0', pinBlock: '0412AC89ABCDEF67' };
const seccos = (changeCounter: number): PinBlockJson => ({ format: '3DES_SECCOS', pinBlock: '141234FFFFFFFFFF', changeCounter });
const now = new Date('2026-03-01T10:00:00Z');

const refusal = (status: number, code: string) => expect.objectContaining({ constructor: VendorError, status, code });

describe('a card of the CMS', () => {
  it('counts every PIN change in its change counter, whatever the block type', () => {
    const card = new Card('card-1', PAN, 'ACTIVE', 5);

    card.setPin(iso0, 'sealed-1', now);
    card.setPin(seccos(6), 'sealed-2', now);

    expect(card).toMatchObject({ changeCounter: 7, pinChanges: 2, pinChangedAt: now });
    // The counter a Seccos PIN was set under, not the one after it.
    expect(card.pin).toEqual({ sealed: 'sealed-2', type: '3DES_SECCOS', changeCounter: 6 });
  });

  it('takes an ISO0 block whatever its counter, since ISO0 blocks do not depend on it', () => {
    const card = new Card('card-1', PAN, 'SUSPENDED', 41);
    card.setPin(iso0, 'sealed', now);
    expect(card.changeCounter).toBe(42);
  });

  it.each([4, 6])('refuses a Seccos block computed with counter %i when the card is at 5, and changes nothing', (counter) => {
    const card = new Card('card-1', PAN, 'ACTIVE', 5);

    expect(() => card.setPin(seccos(counter), 'sealed', now)).toThrow(refusal(409, 'STALE_CHANGE_COUNTER'));
    expect(card).toMatchObject({ changeCounter: 5, pinChanges: 0, pin: undefined });
  });

  it('refuses any PIN for a deactivated card (403), and admits one for an inactive card', () => {
    const deactivated = new Card('card-1', PAN, 'DEACTIVATED', 0);
    const inactive = new Card('card-2', PAN, 'INACTIVE', 0);

    expect(() => deactivated.admit(iso0)).toThrow(refusal(403, 'CARD_DEACTIVATED'));
    expect(() => inactive.admit(seccos(0))).not.toThrow();
    expect(deactivated.changeCounter).toBe(0);
  });
});
