import { randomBytes } from 'node:crypto';
import { PIN_BLOCK_FORMATS, type PinBlockFormat } from './format';
import { decodePinBlock, detectFormat, encodePinBlock } from './pin-block';
import { errorCode } from './spec-support';

const PAN = '5555555551234567';

describe('detectFormat', () => {
  it.each([
    ['041261AAAAEDCBA9', 0],
    ['161234566ABCFDE1', 1],
    ['361216759CFA8889', 3],
    ['341261aaaaedcba9', 3],
  ])('reads %s as format %i from its control nibble', (block, format) => {
    expect(detectFormat(block)).toBe(format);
  });

  it.each([
    // Format 2 (psec's ISO 2 vector): offline chip use only, not supported here.
    ['format 2', '241234FFFFFFFFFF'],
    ['a control nibble of 4', '441234AAAAAAAAAA'],
    ['a control nibble of F', 'F41234AAAAAAAAAA'],
  ])('refuses a block with %s', (_label, block) => {
    expect(errorCode(() => detectFormat(block))).toBe('WRONG_FORMAT');
  });

  // Format 4 blocks are ciphertext: 32 hex digits with no readable control nibble.
  it('refuses anything but 16 hex digits, format 4 blocks included', () => {
    expect(errorCode(() => detectFormat('A912150391AB65A67E52883D81CE2D15'))).toBe('INVALID_BLOCK');
    expect(errorCode(() => detectFormat('041261AAAAEDCBAZ'))).toBe('INVALID_BLOCK');
  });
});

describe('encodePinBlock and decodePinBlock', () => {
  const aesKey = randomBytes(16);

  it.each(PIN_BLOCK_FORMATS.map((format) => [format]))('round-trip a PIN in format %i', (format) => {
    const pinBlock = encodePinBlock(format, '019283', { pan: PAN, aesKey });

    expect(pinBlock.format).toBe(format);
    expect(pinBlock.block).toMatch(format === 4 ? /^[0-9A-F]{32}$/ : /^[0-9A-F]{16}$/);
    expect(decodePinBlock(pinBlock, { pan: PAN, aesKey })).toBe('019283');
  });

  it('produce clear blocks that detectFormat recognises', () => {
    for (const format of [0, 1, 3] as const) {
      expect(detectFormat(encodePinBlock(format, '8264', { pan: PAN }).block)).toBe(format);
    }
  });

  it('need no PAN for format 1', () => {
    expect(decodePinBlock(encodePinBlock(1, '8264'))).toBe('8264');
  });

  it.each([0, 3, 4] as const)('need a PAN for format %i', (format) => {
    expect(errorCode(() => encodePinBlock(format, '8264', { aesKey }))).toBe('INVALID_PAN');
  });

  it('need an AES key for format 4', () => {
    expect(errorCode(() => encodePinBlock(4, '8264', { pan: PAN }))).toBe('INVALID_KEY');
    const block = 'A912150391AB65A67E52883D81CE2D15';

    expect(errorCode(() => decodePinBlock({ format: 4, block }, { pan: PAN }))).toBe('INVALID_KEY');
  });

  it('refuse formats other than 0, 1, 3 and 4', () => {
    expect(errorCode(() => encodePinBlock(2 as PinBlockFormat, '8264', { pan: PAN }))).toBe('WRONG_FORMAT');
    expect(errorCode(() => decodePinBlock({ format: 2 as PinBlockFormat, block: '241234FFFFFFFFFF' }))).toBe(
      'WRONG_FORMAT',
    );
  });

  it('refuse a block labelled with a format it is not in', () => {
    expect(errorCode(() => decodePinBlock({ format: 3, block: '041261AAAAEDCBA9' }, { pan: PAN }))).toBe(
      'WRONG_FORMAT',
    );
  });
});
