import { decodeIso0, encodeIso0, iso0PinLength } from './iso0';
import { errorCode } from './spec-support';

const PAN = '5555555551234567';

describe('ISO 9564-1 format 0', () => {
  describe('published vectors', () => {
    it.each([
      // psec, github.com/knovichikhin/psec tests/test_pinblock.py (test_encode_pinblock_iso_0)
      ['1234', PAN, '041261AAAAEDCBA9'],
      ['123456789012', PAN, '0C1261032D8226A9'],
      // psec, same file (test_decode_pinblock_iso_0)
      ['123456789', PAN, '091261032D8DCBA9'],
      ['1234567890', PAN, '0A1261032D82CBA9'],
      // EFTlab BP-Tools "PIN blocks" output, as reproduced in ID TECH's knowledge base page on PIN block formats
      // (atlassian.idtechproducts.com, "PAN: 43219876543210987, PIN: 1234 ... Clear PIN block: 0412AC89ABCDEF67")
      ['1234', '43219876543210987', '0412AC89ABCDEF67'],
      // Worked example at devindtools.com/Calculator/PinblockCalc ("XOR(06123456FFFFFFFF, 0000123456789012)")
      ['123456', '4451234567890129', '06122662A9876FED'],
    ])('encodes PIN %s under PAN %s as %s, and decodes it back', (pin, pan, block) => {
      expect(encodeIso0(pin, pan)).toBe(block);
      expect(decodeIso0(block, pan)).toBe(pin);
    });

    // No external source: checked by hand as 041234FFFFFFFFFF XOR 0000111111111111.
    it('encodes PIN 1234 under PAN 4111111111111111 as 041225EEEEEEEEEE (hand-computed, no published source)', () => {
      expect(encodeIso0('1234', '4111111111111111')).toBe('041225EEEEEEEEEE');
    });
  });

  describe('the account number field', () => {
    it('uses only the 12 PAN digits before the check digit', () => {
      const block = encodeIso0('1234', '4000001234567890');

      expect(encodeIso0('1234', '9990001234567890')).toBe(block);
      expect(encodeIso0('1234', '4000001234567899')).toBe(block);
      expect(encodeIso0('1234', '4000001234567880')).not.toBe(block);
    });

    // ISO 9564-1 right-justifies a PAN shorter than 12 digits (without check digit) and pads it with zeros.
    it('pads a 12-digit PAN, 11 digits without its check digit, with a leading zero', () => {
      expect(encodeIso0('1234', '123456789012')).toBe('041235DCBA9876FE');
    });
  });

  it.each([4, 5, 6, 7, 8, 9, 10, 11, 12])('round-trips a %i-digit PIN under 12-, 16- and 19-digit PANs', (length) => {
    const pin = '0918273645120'.slice(0, length);

    for (const pan of ['123456789012', PAN, '6011000990139424123']) {
      const block = encodeIso0(pin, pan);
      expect(block).toMatch(/^[0-9A-F]{16}$/);
      expect(decodeIso0(block, pan)).toBe(pin);
    }
  });

  it('keeps leading zeros of a PIN', () => {
    expect(decodeIso0(encodeIso0('0007', PAN), PAN)).toBe('0007');
  });

  it('is deterministic: the same PIN and PAN always give the same block', () => {
    expect(encodeIso0('8264', PAN)).toBe(encodeIso0('8264', PAN));
  });

  it('reads lowercase hex', () => {
    expect(decodeIso0('041261aaaaedcba9', PAN)).toBe('1234');
  });

  describe('refuses', () => {
    it.each(['826', '8264917350261', '82a4', '', ' 8264', '８２６４'])('to encode the PIN %j', (pin) => {
      expect(errorCode(() => encodeIso0(pin, PAN))).toBe('INVALID_PIN');
    });

    it('to encode a PIN that is not a string', () => {
      expect(errorCode(() => encodeIso0(8264 as unknown as string, PAN))).toBe('INVALID_PIN');
    });

    it.each(['55555555512', '55555555512345678901', '5555-5555-5123-4567', ''])('the PAN %j', (pan) => {
      expect(errorCode(() => encodeIso0('8264', pan))).toBe('INVALID_PAN');
      expect(errorCode(() => decodeIso0('041261AAAAEDCBA9', pan))).toBe('INVALID_PAN');
    });

    it.each(['041261AAAAEDCB', '041261AAAAEDCBA900', '041261AAAAEDCBAZ', ''])('the malformed block %j', (block) => {
      expect(errorCode(() => decodeIso0(block, PAN))).toBe('INVALID_BLOCK');
    });

    it('a block of another format', () => {
      expect(errorCode(() => decodeIso0('341261AAAAEDCBA9', PAN))).toBe('WRONG_FORMAT');
      expect(errorCode(() => decodeIso0('141234FFFFFFFFFF', PAN))).toBe('WRONG_FORMAT');
    });

    it.each(['031261AAAAEDCBA9', '0D1261AAAAEDCBA9', '0F1261AAAAEDCBA9'])('the PIN length nibble of %s', (block) => {
      expect(errorCode(() => decodeIso0(block, PAN))).toBe('INVALID_BLOCK');
    });

    // The first two PIN digits are XORed with the account number field's leading zeros: no PAN explains them away.
    it('a block whose first PIN digits are not decimal', () => {
      expect(errorCode(() => decodeIso0('04A261AAAAEDCBA9', PAN))).toBe('INVALID_BLOCK');
    });

    // The fill can only come out as F under the PAN the block was built with.
    it('a block built for another PAN', () => {
      expect(errorCode(() => decodeIso0('041261AAAAEDCBA9', '5555555551234577'))).toBe('PAN_MISMATCH');
    });

    // With an all-zero PAN the block is the clear PIN field itself, so its fill can be edited directly.
    it('a block whose fill is not F', () => {
      const zeroPan = '0000000000000000';

      expect(decodeIso0('048264FFFFFFFFFF', zeroPan)).toBe('8264');
      expect(errorCode(() => decodeIso0('048264FFFFFFFFFE', zeroPan))).toBe('PAN_MISMATCH');
    });
  });

  // For whoever holds a format 0 block but not its PAN (intake, for Thales D1's ISO0 pushes).
  describe('without the PAN', () => {
    it.each([
      ['1234', '041261AAAAEDCBA9', 4],
      ['123456789012', '0C1261032D8226A9', 12],
      ['123456', '06122662A9876FED', 6],
    ])('reads the PIN length of the block of %s', (_pin, block, length) => {
      expect(iso0PinLength(block)).toBe(length);
    });

    it.each([
      ['another format', '341261AAAAEDCBA9', 'WRONG_FORMAT'],
      ['a PIN length of 3', '031261AAAAEDCBA9', 'INVALID_BLOCK'],
      ['a PIN length of 13', '0D1261AAAAEDCBA9', 'INVALID_BLOCK'],
      ['a first PIN digit that is not decimal', '04A261AAAAEDCBA9', 'INVALID_BLOCK'],
      ['a second PIN digit that is not decimal', '041F61AAAAEDCBA9', 'INVALID_BLOCK'],
      ['15 hex digits', '041261AAAAEDCBA', 'INVALID_BLOCK'],
    ])('refuses %s', (_reason, block, code) => {
      expect(errorCode(() => iso0PinLength(block))).toBe(code);
    });
  });
});
