import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeIso4, encipherIso4PinField, encodeIso4, iso4PanField, iso4PinField, type AesKey } from './iso4';
import { errorCode } from './spec-support';

const hex = (value: string) => Buffer.from(value, 'hex');

const PAN = '4111111111111111';

describe('ISO 9564-1 format 4 (AES)', () => {
  describe('published vectors', () => {
    // ANSI X9.24-3-2017 supplement test vectors, "Calculation of AES PIN Block Format 4" (AES-128 BDK, first
    // KSN), as transcribed in github.com/openemv/dukpt test/dukpt_aes128_test.c: PIN key, plain-text PIN
    // field with its random part, PAN field, and the enciphered PIN block.
    const x9 = {
      key: hex('AF8CB133A78F8DC2D1359F18527593FB'),
      pinField: '441234AAAAAAAAAA2F69ADDE2E9E7ACE',
      panField: '44111111111111111000000000000000',
      block: 'A912150391AB65A67E52883D81CE2D15',
    };

    it('builds the X9.24-3 PIN field and PAN field for PIN 1234 and PAN 4111111111111111', () => {
      expect(iso4PinField('1234', hex('2F69ADDE2E9E7ACE')).toString('hex').toUpperCase()).toBe(x9.pinField);
      expect(iso4PanField(PAN).toString('hex').toUpperCase()).toBe(x9.panField);
    });

    it('enciphers the X9.24-3 PIN field to A912150391AB65A67E52883D81CE2D15 and decodes it back', () => {
      expect(encipherIso4PinField(hex(x9.pinField), PAN, x9.key)).toBe(x9.block);
      expect(decodeIso4(x9.block, PAN, x9.key)).toBe('1234');
    });

    // ep2 eft/pos 2000 Security Specification 8.0.0, section 8.4 "PIN Encryption", as cited in psec,
    // github.com/knovichikhin/psec tests/test_pinblock.py (test_decipher_pinblock_iso_4).
    it('decodes the ep2 vector CC17F65586BFD0953010226C4FC5B3CA to 1234', () => {
      const key = hex('C1D0F8FB4958670DBA40AB1F3752EF0D');

      expect(decodeIso4('CC17F65586BFD0953010226C4FC5B3CA', '432198765432109870', key)).toBe('1234');
    });

    const testKey = hex('00112233445566778899AABBCCDDEEFF');

    // psec tests/test_pinblock.py (test_encipher_pinblock_iso_4_det), with the random part forced to FF bytes.
    it('enciphers the psec vector 28B41FDDD29B743E93124BD8E32D921E with an all-FF random part', () => {
      const block = encipherIso4PinField(iso4PinField('1234', Buffer.alloc(8, 0xff)), '1234567890123456789', testKey);

      expect(block).toBe('28B41FDDD29B743E93124BD8E32D921E');
      expect(decodeIso4(block, '1234567890123456789', testKey)).toBe('1234');
    });

    it.each([
      // paysec, github.com/5n00py/paysec crates/paysec-pinblock/src/iso_9564/tests/test_format_4.rs
      // (test_decipher_pinblock_iso_4_various)
      ['1234', '1234567890123456', '52DB178C6EDCE52E3A70F7FBC8E9C758'],
      ['123456', '123456789012345678', '847A0209C659E4C4A79CA6A2A2217D31'],
      ['12345678', '1234567890123456789', '018BFEC8B5EF60181A327AD8325A2BA4'],
    ])('decodes PIN %s under PAN %s from the paysec block %s', (pin, pan, block) => {
      expect(decodeIso4(block, pan, testKey)).toBe(pin);
    });

    it.each([
      // paysec, same file (test_encode_pan_field_iso_4_various_pans)
      ['123456789012', '01234567890120000000000000000000'],
      ['1234567890123', '11234567890123000000000000000000'],
      ['12345678901234', '21234567890123400000000000000000'],
      ['123456789012345', '31234567890123450000000000000000'],
      ['1234567890123456', '41234567890123456000000000000000'],
      ['12345678901234567', '51234567890123456700000000000000'],
      ['123456789012345678', '61234567890123456780000000000000'],
      ['1234567890123456789', '71234567890123456789000000000000'],
    ])('encodes the PAN field of %s as %s, keeping the whole PAN and its length', (pan, field) => {
      expect(iso4PanField(pan).toString('hex').toUpperCase()).toBe(field);
    });

    it.each([
      // paysec, same file (test_encode_pin_field_iso_4_various_pins)
      ['12345', '517F9481BA5275FA', '4512345AAAAAAAAA517F9481BA5275FA'],
      ['12345678901', '9B263A096EA64687', '4B12345678901AAA9B263A096EA64687'],
      ['123456789012', '8A268C65E92C3B39', '4C123456789012AA8A268C65E92C3B39'],
    ])('encodes the PIN field of %s with random part %s as %s', (pin, random, field) => {
      expect(iso4PinField(pin, hex(random)).toString('hex').toUpperCase()).toBe(field);
    });
  });

  describe.each([16, 24, 32])('with a %i-byte AES key', (keyBytes) => {
    const key = randomBytes(keyBytes);

    it.each([4, 5, 6, 7, 8, 9, 10, 11, 12])('round-trips a %i-digit PIN', (length) => {
      const pin = '0918273645120'.slice(0, length);
      const block = encodeIso4(pin, PAN, key);

      expect(block).toMatch(/^[0-9A-F]{32}$/);
      expect(decodeIso4(block, PAN, key)).toBe(pin);
    });
  });

  it('accepts the key as a secret KeyObject', () => {
    const key = createSecretKey(randomBytes(32));

    expect(decodeIso4(encodeIso4('8264', PAN, key), PAN, key)).toBe('8264');
  });

  it('binds the whole PAN, check digit included', () => {
    const key = randomBytes(16);
    const block = encodeIso4('8264', PAN, key);

    expect(errorCode(() => decodeIso4(block, '4111111111111112', key))).toBe('DECIPHER_FAILED');
    expect(errorCode(() => decodeIso4(block, '5111111111111111', key))).toBe('DECIPHER_FAILED');
  });

  it('gives a different block for the same PIN, PAN and key on every call', () => {
    const key = randomBytes(16);
    const blocks = Array.from({ length: 20 }, () => encodeIso4('8264', PAN, key));

    expect(new Set(blocks).size).toBe(20);
    for (const block of blocks) expect(decodeIso4(block, PAN, key)).toBe('8264');
  });

  describe('refuses', () => {
    const key = randomBytes(16);

    it.each(['826', '8264917350261', '82a4'])('to encode the PIN %j', (pin) => {
      expect(errorCode(() => encodeIso4(pin, PAN, key))).toBe('INVALID_PIN');
    });

    it.each(['41111111111', '41111111111111111111', '4111 1111 1111 1111'])('the PAN %j', (pan) => {
      expect(errorCode(() => encodeIso4('8264', pan, key))).toBe('INVALID_PAN');
      expect(errorCode(() => decodeIso4('A912150391AB65A67E52883D81CE2D15', pan, key))).toBe('INVALID_PAN');
    });

    it.each<[string, unknown]>([
      ['an 8-byte (DES) key', randomBytes(8)],
      ['a 15-byte key', randomBytes(15)],
      ['a 33-byte key', randomBytes(33)],
      ['a hex string instead of bytes', '00112233445566778899AABBCCDDEEFF'],
      ['a private KeyObject', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
      ['no key', undefined],
    ])('%s', (_label, badKey) => {
      expect(errorCode(() => encodeIso4('8264', PAN, badKey as AesKey))).toBe('INVALID_KEY');
      expect(errorCode(() => decodeIso4('A912150391AB65A67E52883D81CE2D15', PAN, badKey as AesKey))).toBe(
        'INVALID_KEY',
      );
    });

    it.each(['A912150391AB65A6', 'A912150391AB65A67E52883D81CE2D1500', 'A912150391AB65A67E52883D81CE2D1G'])(
      'the malformed block %j',
      (block) => {
        expect(errorCode(() => decodeIso4(block, PAN, key))).toBe('INVALID_BLOCK');
      },
    );

    it('a block enciphered under another key', () => {
      const block = encodeIso4('8264', PAN, randomBytes(16));

      expect(errorCode(() => decodeIso4(block, PAN, key))).toBe('DECIPHER_FAILED');
    });

    it.each([
      ['a format 3 control nibble', '341234AAAAAAAAAA2F69ADDE2E9E7ACE'],
      ['a PIN length of 3', '43123AAAAAAAAAAA2F69ADDE2E9E7ACE'],
      ['a non-decimal PIN digit', '44123AAAAAAAAAAA2F69ADDE2E9E7ACE'],
      ['fill other than A', '441234AAAAAAAAAB2F69ADDE2E9E7ACE'],
    ])('a block that deciphers to a PIN field with %s', (_reason, pinField) => {
      const block = encipherIso4PinField(hex(pinField), PAN, key);

      expect(errorCode(() => decodeIso4(block, PAN, key))).toBe('DECIPHER_FAILED');
    });
  });
});
