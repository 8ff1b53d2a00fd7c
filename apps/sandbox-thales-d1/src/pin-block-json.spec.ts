import { encodeIso0, encodeIso1, encodeIso3 } from '@pinflow/pin-block';
import { VendorError } from '@pinflow/sandbox-kit';
import { parsePinBlockJson, pinBlockJsonOf, pinOf, PinBlockType } from './pin-block-json';

const PAN = '4761739001010119';
const OTHER_PAN = '4761739001010010';
const PIN = '4821';

/** A 400 INVALID_PIN_BLOCK whose message quotes none of `secrets`. */
function invalidPinBlockQuotingNone(...secrets: string[]) {
  return expect.objectContaining({
    constructor: VendorError,
    status: 400,
    code: 'INVALID_PIN_BLOCK',
    message: expect.not.stringMatching(new RegExp(secrets.join('|'))),
  });
}

describe('the JSON PIN block', () => {
  it.each<[PinBlockType, number]>([
    ['ISO0', 0],
    ['3DES_SECCOS', 7],
  ])('%s: what the CMS answers reads back to the same PIN', (type, counter) => {
    const block = parsePinBlockJson(type, pinBlockJsonOf(type, PIN, PAN, counter));

    expect(block.format).toBe(type);
    expect(pinOf(block, PAN)).toBe(PIN);
  });

  it('ISO0 is an ISO 9564 format 0 block bound to the PAN, and nothing else', () => {
    const plaintext = pinBlockJsonOf('ISO0', '123456789012', PAN, 3);

    expect(JSON.parse(plaintext)).toEqual({ format: 'ISO0', pinBlock: encodeIso0('123456789012', PAN) });
  });

  it('3DES_SECCOS carries a format 1 block and the change counter it was computed with', () => {
    const block = parsePinBlockJson('3DES_SECCOS', JSON.stringify({ format: '3DES_SECCOS', pinBlock: encodeIso1(PIN).toLowerCase(), changeCounter: 12 }));

    expect(block).toMatchObject({ format: '3DES_SECCOS', changeCounter: 12 });
    // The Seccos block does not depend on the PAN.
    expect(pinOf(block, OTHER_PAN)).toBe(PIN);
  });

  it.each([
    ['not JSON', 'ISO0', `{"format":"ISO0","pinBlock":${PIN}`],
    ['JSON without a block', 'ISO0', '{"format":"ISO0"}'],
    ['a block of 15 hex digits', 'ISO0', JSON.stringify({ format: 'ISO0', pinBlock: encodeIso0(PIN, PAN).slice(1) })],
    ['a field the schema does not have', 'ISO0', JSON.stringify({ format: 'ISO0', pinBlock: encodeIso0(PIN, PAN), pin: PIN })],
    ['a Seccos block without its counter', '3DES_SECCOS', JSON.stringify({ format: '3DES_SECCOS', pinBlock: encodeIso1(PIN) })],
    ['a negative counter', '3DES_SECCOS', JSON.stringify({ format: '3DES_SECCOS', pinBlock: encodeIso1(PIN), changeCounter: -1 })],
    ['another type than the request names', '3DES_SECCOS', JSON.stringify({ format: 'ISO0', pinBlock: encodeIso0(PIN, PAN) })],
  ] as const)('refuses %s with INVALID_PIN_BLOCK, quoting nothing', (_case, type, plaintext) => {
    expect(() => parsePinBlockJson(type, plaintext)).toThrow(invalidPinBlockQuotingNone(PIN, 'pinBlock'));
  });

  it.each([
    ['an ISO0 block made for another PAN', { format: 'ISO0', pinBlock: encodeIso0(PIN, OTHER_PAN) }],
    ['an ISO0 block in format 3', { format: 'ISO0', pinBlock: encodeIso3(PIN, PAN) }],
    ['a Seccos block in format 0', { format: '3DES_SECCOS', pinBlock: encodeIso0(PIN, PAN), changeCounter: 0 }],
    // Control nibble 0, length nibble 3: a three-digit PIN.
    ['a PIN of 3 digits', { format: 'ISO0', pinBlock: '03' + '482'.padEnd(14, 'F') }],
  ] as const)('refuses %s when reading the PIN, quoting neither PIN nor PAN', (_case, json) => {
    const block = parsePinBlockJson(json.format, JSON.stringify(json));
    expect(() => pinOf(block, PAN)).toThrow(invalidPinBlockQuotingNone(PIN, PAN, OTHER_PAN, json.pinBlock));
  });
});
