import { ProblemException } from '@pinflow/http';
import { holdsSecret, seededCard } from './card-hooks';
import { PinHash } from './pin-hash';

describe('seededCard', () => {
  it('passes a seeded card on', () => {
    const card = { id: 'card-1' };
    expect(seededCard(card)).toBe(card);
  });

  it('answers a card nobody seeded with a 404 CARD_NOT_FOUND problem', () => {
    const refusal = (() => {
      try {
        seededCard(undefined);
      } catch (error) {
        return error as ProblemException;
      }
    })();
    expect(refusal).toBeInstanceOf(ProblemException);
    expect(refusal?.getStatus()).toBe(404);
    expect(refusal?.getResponse()).toMatchObject({ status: 404, code: 'CARD_NOT_FOUND', title: 'Card not found' });
  });
});

describe('holdsSecret', () => {
  it('is true for the stored secret only, and false for a card that has none', () => {
    const stored = PinHash.of('4821');
    expect(holdsSecret(stored, '4821')).toBe(true);
    expect(holdsSecret(stored, '4822')).toBe(false);
    expect(holdsSecret(undefined, '4821')).toBe(false);
  });
});
