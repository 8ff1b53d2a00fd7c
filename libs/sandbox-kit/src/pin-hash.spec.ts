import { inspect } from 'node:util';
import { PinHash } from './pin-hash';

describe('PinHash', () => {
  it('matches the PIN it was made from and no other', () => {
    const hash = PinHash.of('4821');
    expect(hash.matches('4821')).toBe(true);
    expect(hash.matches('4822')).toBe(false);
    expect(hash.matches('04821')).toBe(false);
  });

  it('salts every hash, so equal PINs give different hashes', () => {
    expect(inspect(PinHash.of('4821'))).not.toEqual(inspect(PinHash.of('4821')));
  });

  it('serialises to a placeholder, never to the PIN or its hash', () => {
    expect(JSON.stringify({ hash: PinHash.of('4821') })).toBe('{"hash":"[pin hash]"}');
  });
});
