import { decodeIso3, encodeIso3, encodeIso3WithFill } from './iso3';
import { errorCode } from './spec-support';

const PAN = '5555555551234567';
// An all-zero account number field leaves the block equal to the clear PIN field, fill included.
const ZERO_PAN = '0000000000000000';

describe('ISO 9564-1 format 3', () => {
  describe('published vectors', () => {
    // IBM, "ISO Format 3" (ibm.com/docs/en/linux-on-systems?topic=formats-iso-format-3): PIN 123456, IPB
    // 36123456AFBECDDC, PAN block 0000222333444555, PIN block 361216759CFA8889. IBM's account number
    // 111222333444555 is given without its check digit, so the Luhn check digit 9 is appended here.
    it('reproduces the IBM example 361216759CFA8889 for PIN 123456 with fill AFBECDDC', () => {
      expect(encodeIso3WithFill('123456', '1112223334445559', 'AFBECDDC')).toBe('361216759CFA8889');
      expect(decodeIso3('361216759CFA8889', '1112223334445559')).toBe('123456');
    });

    it.each([
      // psec, github.com/knovichikhin/psec tests/test_pinblock.py (test_decode_pinblock_iso_3)
      ['1234', '341261AAAAEDCBA9'],
      ['123456789', '391261032D8DCBA9'],
      ['1234567890', '3A1261032D82CBA9'],
      ['123456789012', '3C1261032D8226A9'],
    ])('decodes PIN %s from the psec block %s', (pin, block) => {
      expect(decodeIso3(block, PAN)).toBe(pin);
    });
  });

  it.each([4, 5, 6, 7, 8, 9, 10, 11, 12])('round-trips a %i-digit PIN', (length) => {
    const pin = '0918273645120'.slice(0, length);
    const block = encodeIso3(pin, PAN);

    expect(block).toMatch(/^3[4-9A-C][0-9A-F]{14}$/);
    expect(decodeIso3(block, PAN)).toBe(pin);
  });

  it('gives a different block for the same PIN and PAN on every call, each decoding to the PIN', () => {
    const blocks = Array.from({ length: 20 }, () => encodeIso3('8264', PAN));

    expect(new Set(blocks).size).toBe(20);
    for (const block of blocks) expect(decodeIso3(block, PAN)).toBe('8264');
  });

  // 2000 fill nibbles: each of the six letters is missing with probability below 1e-150 if the draw is uniform.
  it('draws fill nibbles from all of A to F and nothing else', () => {
    const fills = Array.from({ length: 200 }, () => encodeIso3('8264', ZERO_PAN).slice(6)).join('');

    expect(fills).toMatch(/^[A-F]{2000}$/);
    expect(new Set(fills)).toEqual(new Set('ABCDEF'));
  });

  describe('refuses', () => {
    it.each(['826', '8264917350261', '82a4'])('to encode the PIN %j', (pin) => {
      expect(errorCode(() => encodeIso3(pin, PAN))).toBe('INVALID_PIN');
    });

    it('to encode under a malformed PAN', () => {
      expect(errorCode(() => encodeIso3('8264', '55555555512'))).toBe('INVALID_PAN');
    });

    // Format 0's F fill is also valid format 3 fill, so only the control nibble tells them apart.
    it('a format 0 block', () => {
      expect(errorCode(() => decodeIso3('041261AAAAEDCBA9', PAN))).toBe('WRONG_FORMAT');
    });

    it.each([
      ['a PIN length below 4', '331261AAAAEDCBA9'],
      ['a PIN length above 12', '3D1261AAAAEDCBA9'],
      ['a block of the wrong size', '341261AAAAEDCB'],
    ])('a block with %s', (_reason, block) => {
      expect(errorCode(() => decodeIso3(block, PAN))).toBe('INVALID_BLOCK');
    });

    it('fill nibbles outside A to F', () => {
      expect(decodeIso3('348264ABCDEFABCD', ZERO_PAN)).toBe('8264');
      expect(errorCode(() => decodeIso3('348264ABCDEFABC9', ZERO_PAN))).toBe('PAN_MISMATCH');
      expect(errorCode(() => decodeIso3('3482640BCDEFABCD', ZERO_PAN))).toBe('PAN_MISMATCH');
    });

    // The last PAN digit before the check digit differs by 6, which turns fill F into 9.
    it('a block built for a PAN whose difference pushes the fill out of A to F', () => {
      const block = encodeIso3WithFill('8264', PAN, 'FFFFFFFFFF');

      expect(errorCode(() => decodeIso3(block, '5555555551234507'))).toBe('PAN_MISMATCH');
    });
  });

  // Random fill has no fixed value to check, so PAN_MISMATCH is best effort: here the PANs differ by 1 in the
  // last digit before the check digit, turning fill F into E, which is still valid fill.
  it('cannot notice every wrong PAN, since a changed fill nibble may still be within A to F', () => {
    const block = encodeIso3WithFill('8264', PAN, 'FFFFFFFFFF');

    expect(decodeIso3(block, '5555555551234577')).toBe('8264');
  });
});
