import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { PinBlockError } from './errors';
import { decodeIso0, encodeIso0 } from './iso0';
import { decodeIso1, encodeIso1 } from './iso1';
import { decodeIso3, encodeIso3 } from './iso3';
import { decodeIso4, encodeIso4 } from './iso4';
import { decodePinBlock, detectFormat } from './pin-block';
import { thrownPinBlockError } from './spec-support';
import { decipherTdes, encipherTdes } from './tdes';

// Every way an error can reach a log line: its message, its string form, its stack, util.inspect (what
// console.log and most loggers print) and JSON. None may carry a PIN, a PAN, a PIN block or key material.
function renderings(error: PinBlockError): string[] {
  return [error.message, String(error), error.stack ?? '', inspect(error, { depth: 5 }), JSON.stringify(error)];
}

const PIN = '8264';
const PAN = '4000123498765432';
// Differs from PAN in the digit before the check digit by 0xA, which turns fill F into 5.
const OTHER_PAN = '4000123498765492';
const aesKey = randomBytes(16);
const otherAesKey = randomBytes(16);
const iso0 = encodeIso0(PIN, PAN);
const iso3 = encodeIso3(PIN, PAN);
const iso4 = encodeIso4(PIN, PAN, aesKey);
const weakTdesKey = Buffer.from('0123456789ABCDEF0123456789ABCDEF', 'hex');

const cases: [string, () => unknown, string[]][] = [
  ['a too short PIN', () => encodeIso0('826', PAN), ['826', PAN]],
  ['a too long PIN', () => encodeIso0('8264917350261', PAN), ['8264917350261', PAN]],
  ['a PIN with a letter', () => encodeIso4('82a4', PAN, aesKey), ['82a4', PAN]],
  ['a too short PAN', () => encodeIso0(PIN, '40001234987'), [PIN, '40001234987']],
  ['a too long PAN', () => encodeIso3(PIN, '40001234987654329999'), [PIN, '40001234987654329999']],
  ['a formatted PAN', () => decodeIso0(iso0, '4000 1234 9876 5432'), [iso0, '4000 1234 9876 5432']],
  ['a format 0 block under the wrong PAN', () => decodeIso0(iso0, OTHER_PAN), [PIN, PAN, OTHER_PAN, iso0]],
  ['a format 3 block under the wrong PAN', () => decodeIso3(iso3, OTHER_PAN), [PIN, PAN, OTHER_PAN, iso3]],
  ['a block of the wrong format', () => decodeIso3(iso0, PAN), [PIN, PAN, iso0]],
  ['a malformed format 1 block', () => decodeIso1('14826A0000000000'), ['14826A0000000000', PIN]],
  ['a malformed fill', () => encodeIso1(PIN, { fill: '12345' }), [PIN, '12345']],
  ['a format 4 block under the wrong key', () => decodeIso4(iso4, PAN, otherAesKey), [PIN, PAN, iso4]],
  ['a format 4 block under the wrong PAN', () => decodeIso4(iso4, OTHER_PAN, aesKey), [PIN, PAN, OTHER_PAN, iso4]],
  ['a short AES key', () => encodeIso4(PIN, PAN, aesKey.subarray(0, 15)), [PIN, PAN]],
  ['a weak TDES key', () => encipherTdes(iso0, weakTdesKey), [iso0, '0123456789ABCDEF']],
  ['a truncated enciphered block', () => decipherTdes(iso0.slice(0, 15), weakTdesKey), [iso0.slice(0, 15)]],
  ['an unsupported clear block', () => detectFormat('248264FFFFFFFFFF'), ['248264FFFFFFFFFF', PIN]],
  ['a mislabelled block', () => decodePinBlock({ format: 4, block: iso0 }, { pan: PAN, aesKey }), [iso0, PAN]],
];

describe('PinBlockError', () => {
  it.each(cases)('for %s names no PIN, PAN, block or key', (_label, action, secrets) => {
    const error = thrownPinBlockError(action);
    const keyMaterial = [aesKey, otherAesKey].map((key) => key.toString('hex'));

    for (const text of renderings(error).map((rendering) => rendering.toUpperCase())) {
      for (const secret of [...secrets, ...keyMaterial]) expect(text).not.toContain(secret.toUpperCase());
    }
    expect(error.cause).toBeUndefined();
  });

  it('exposes a machine-readable code and the format concerned', () => {
    const error = thrownPinBlockError(() => decodeIso0(iso0, OTHER_PAN));

    expect(error).toMatchObject({ name: 'PinBlockError', code: 'PAN_MISMATCH', format: 0 });
    expect(error.message).toBe('The format 0 PIN block does not decode under this PAN: wrong PAN or corrupted block');
  });
});
