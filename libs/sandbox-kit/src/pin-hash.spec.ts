import { inspect } from 'node:util';
import { PinHash } from './pin-hash';

describe('PinHash', () => {
  it('matches the PIN it was made from and no other', async () => {
    const hash = await PinHash.of('4821');
    await expect(hash.matches('4821')).resolves.toBe(true);
    await expect(hash.matches('4822')).resolves.toBe(false);
    await expect(hash.matches('04821')).resolves.toBe(false);
  });

  it('salts every hash, so equal PINs give different hashes', async () => {
    const [first, second] = await Promise.all([PinHash.of('4821'), PinHash.of('4821')]);
    expect(inspect(first)).not.toEqual(inspect(second));
  });

  it('serialises to a placeholder, never to the PIN or its hash', async () => {
    const hash = await PinHash.of('4821');
    expect(JSON.stringify({ hash })).toBe('{"hash":"[pin hash]"}');
  });
});
