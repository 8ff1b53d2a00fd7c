import { createSecretKey, randomBytes } from 'node:crypto';
import { decodeIso0, encodeIso0 } from './iso0';
import { decipherTdes, encipherTdes, type TdesKey } from './tdes';
import { errorCode } from './spec-support';

const hex = (value: string) => Buffer.from(value, 'hex');

describe('triple-DES encipherment of clear PIN blocks', () => {
  // Worked example at devindtools.com/Calculator/PinblockCalc: "Key = E8DD93B8AF13999C7644C0FE11F5D2A7,
  // Pinblock = 3DES(06122662A9876FED, ...) = ABC5E23474210DAC".
  const doubleLength = hex('E8DD93B8AF13999C7644C0FE11F5D2A7');

  it('enciphers the devindtools example 06122662A9876FED to ABC5E23474210DAC under a double-length key', () => {
    expect(encipherTdes('06122662A9876FED', doubleLength)).toBe('ABC5E23474210DAC');
    expect(decipherTdes('ABC5E23474210DAC', doubleLength)).toBe('06122662A9876FED');
  });

  // A double-length key K1K2 is by definition the triple-length key K1K2K1.
  it('treats a triple-length K1K2K1 key like the double-length K1K2 key', () => {
    const tripleLength = Buffer.concat([doubleLength, doubleLength.subarray(0, 8)]);

    expect(encipherTdes('06122662A9876FED', tripleLength)).toBe('ABC5E23474210DAC');
  });

  it.each([16, 24])('round-trips a format 0 block under a random %i-byte key, raw or as a KeyObject', (bytes) => {
    const raw = randomBytes(bytes);
    const pan = '4451234567890129';
    const clear = encodeIso0('8264', pan);

    for (const key of [raw, createSecretKey(raw)]) {
      const enciphered = encipherTdes(clear, key);
      expect(enciphered).toMatch(/^[0-9A-F]{16}$/);
      expect(enciphered).not.toBe(clear);
      expect(decodeIso0(decipherTdes(enciphered, key), pan)).toBe('8264');
    }
  });

  describe('refuses', () => {
    const k1 = hex('0123456789ABCDEF');
    const k2 = hex('FEDCBA9876543210');

    it.each<[string, unknown]>([
      ['a single-DES key', k1],
      ['a 32-byte key', randomBytes(32)],
      ['a double-length key with equal halves', Buffer.concat([k1, k1])],
      ['a triple-length key whose last two components are equal', Buffer.concat([k1, k2, k2])],
      ['a hex string instead of bytes', 'E8DD93B8AF13999C7644C0FE11F5D2A7'],
      ['no key', undefined],
    ])('%s', (_label, key) => {
      expect(errorCode(() => encipherTdes('06122662A9876FED', key as TdesKey))).toBe('INVALID_KEY');
      expect(errorCode(() => decipherTdes('ABC5E23474210DAC', key as TdesKey))).toBe('INVALID_KEY');
    });

    it.each(['06122662A9876F', '06122662A9876FED00', '06122662A9876FEX'])('the malformed block %j', (block) => {
      expect(errorCode(() => encipherTdes(block, doubleLength))).toBe('INVALID_BLOCK');
    });
  });
});
