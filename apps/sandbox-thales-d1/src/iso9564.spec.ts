import { decodeIso0, decodeIso1, encodeIso0, encodeIso1 } from '@pinflow/pin-block';
import { decodeFormat0, decodeFormat1, encodeFormat0, encodeFormat1, PinBlockRejected } from './iso9564';

const PAN = '4761739001010119';
const PINS = ['1379', '802461', '50792468', '135792468024'];

describe('the sandbox’s own ISO 9564-1 codec', () => {
  it('reads the format 0 example of ISO 9564-1 (PIN 1234, PAN 43219876543210987)', () => {
    expect(decodeFormat0('0412AC89ABCDEF67', '43219876543210987')).toBe('1234');
    expect(encodeFormat0('1234', '43219876543210987')).toBe('0412AC89ABCDEF67');
  });

  // Two codecs written apart, agreeing: the worker's (@pinflow/pin-block) and the CMS sandbox's.
  it.each(PINS)('agrees with the worker’s PIN-block library on PIN %s, both ways, in formats 0 and 1', (pin) => {
    expect(decodeFormat0(encodeIso0(pin, PAN), PAN)).toBe(pin);
    expect(decodeIso0(encodeFormat0(pin, PAN), PAN)).toBe(pin);
    expect(decodeFormat1(encodeIso1(pin))).toBe(pin);
    expect(decodeIso1(encodeFormat1(pin))).toBe(pin);
  });

  it.each([
    ['another card’s PAN', () => decodeFormat0(encodeIso0('1379', PAN), '4000000000000002')],
    ['a format 1 block read as format 0', () => decodeFormat0(encodeIso1('1379'), PAN)],
    ['a PIN length of 3', () => decodeFormat1('13123FFFFFFFFFFF')],
    ['a letter among the PIN digits', () => decodeFormat1('141A34FFFFFFFFFF')],
    ['15 hex digits', () => decodeFormat1('141234FFFFFFFFF')],
  ])('refuses %s, naming the rule and nothing of the block', (_case, decode) => {
    expect(decode).toThrow(PinBlockRejected);
    try {
      decode();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/[0-9A-F]{12}|1379/);
    }
  });
});
