import { decodeIso1, encodeIso1 } from './iso1';
import { errorCode } from './spec-support';

describe('ISO 9564-1 format 1', () => {
  // IBM CCA Basic Services Reference and Guide, Release 2.54, Appendix E, "ISO-1 PIN-Block Format" example:
  // "PIN = 123456 ... PIN block = X'161234566ABCFDE1', where ... 6ABCFDE1 are the random fillers".
  it('reproduces the IBM CCA example 161234566ABCFDE1 for PIN 123456 with fill 6ABCFDE1', () => {
    expect(encodeIso1('123456', { fill: '6ABCFDE1' })).toBe('161234566ABCFDE1');
    expect(decodeIso1('161234566ABCFDE1')).toBe('123456');
  });

  it('puts the transaction field given as fill after the PIN, in upper case', () => {
    expect(encodeIso1('8264', { fill: '000000000a' })).toBe('148264000000000A');
  });

  it.each([4, 5, 6, 7, 8, 9, 10, 11, 12])('round-trips a %i-digit PIN with random fill', (length) => {
    const pin = '0918273645120'.slice(0, length);
    const block = encodeIso1(pin);

    expect(block).toMatch(new RegExp(`^1${length.toString(16).toUpperCase()}${pin}[0-9A-F]{${14 - length}}$`));
    expect(decodeIso1(block)).toBe(pin);
  });

  // With a 4-digit PIN there are 40 random fill bits, so a repeat among 20 blocks would mean the fill is fixed.
  it('draws a fresh fill for every block', () => {
    const blocks = Array.from({ length: 20 }, () => encodeIso1('8264'));

    expect(new Set(blocks).size).toBe(20);
  });

  it('accepts any hex value as fill when decoding', () => {
    expect(decodeIso1('1482640000000000')).toBe('8264');
    expect(decodeIso1('148264FFFFFFFFFF')).toBe('8264');
  });

  describe('refuses', () => {
    it.each(['826', '8264917350261', '82a4'])('to encode the PIN %j', (pin) => {
      expect(errorCode(() => encodeIso1(pin))).toBe('INVALID_PIN');
    });

    it.each(['', '00000000', '00000000000', '00000000G0'])('the fill %j for a 4-digit PIN', (fill) => {
      expect(errorCode(() => encodeIso1('8264', { fill }))).toBe('INVALID_FILL');
    });

    it('a block of another format', () => {
      expect(errorCode(() => decodeIso1('041261AAAAEDCBA9'))).toBe('WRONG_FORMAT');
      expect(errorCode(() => decodeIso1('341261AAAAEDCBA9'))).toBe('WRONG_FORMAT');
    });

    it.each([
      ['a PIN length below 4', '1382640000000000'],
      ['a PIN length above 12', '1D82640000000000'],
      ['a non-decimal PIN digit', '14826A0000000000'],
      ['a block of the wrong size', '148264000000'],
      ['a block that is not hex', '148264000000000X'],
    ])('a block with %s', (_reason, block) => {
      expect(errorCode(() => decodeIso1(block))).toBe('INVALID_BLOCK');
    });
  });
});
