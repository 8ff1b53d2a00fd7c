import { SolarisDevice } from '@pinflow/testing';
import { VendorError } from '@pinflow/sandbox-kit';
import { CompactEncrypt } from 'jose';
import { createPublicKey } from 'node:crypto';
import { decryptPin } from './encrypted-pin';
import { PinKey, PinKeys } from './pin-keys';

describe('decrypting the PIN a device encrypted', () => {
  let keys: PinKeys;
  let key: PinKey;

  beforeAll(async () => {
    keys = await PinKeys.generate();
    key = keys.find(keys.latest.kid)!;
  });

  const encrypt = (plaintext: string, header: Record<string, string>) =>
    new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', kid: keys.latest.kid, ...header })
      .encrypt(createPublicKey(key.privateKey));

  /** The refusal as [status, code, field, message]. */
  function refusal(encryptedPin: string): [number, string, string | undefined, string] {
    try {
      decryptPin(encryptedPin, key);
    } catch (error) {
      if (error instanceof VendorError) return [error.status, error.code, error.field, error.message];
    }
    throw new Error('expected a refusal');
  }

  it('yields the PIN of a JWE made as Solaris prescribes', async () => {
    const { encrypted_pin } = await new SolarisDevice().encryptAndSign('5820', keys.latest);
    expect(decryptPin(encrypted_pin, key)).toBe('5820');
  });

  it.each([
    ['another key-management algorithm', { alg: 'RSA-OAEP' }],
    ['another content encryption', { enc: 'A256GCM' }],
  ])('refuses %s as a 400 on encrypted_pin', async (_case, header) => {
    expect(refusal(await encrypt('{"pin":"5820"}', header))).toEqual([400, 'validation_error', 'encrypted_pin', 'encrypted_pin must use alg RSA-OAEP-256 and enc A256CBC-HS512, without compression']);
  });

  it('refuses a JWE whose kid is not the key it is decrypted with', async () => {
    expect(refusal(await encrypt('{"pin":"5820"}', { kid: 'another' }))).toEqual([400, 'validation_error', 'encrypted_pin', 'encrypted_pin names another key than key_id']);
  });

  it.each([
    ['a JWS', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
    ['text', 'not a jwe'],
    ['five parts of garbage', 'a.b.c.d.e'],
  ])('refuses %s as not compact', (_case, value) => {
    expect(refusal(value)).toEqual([400, 'validation_error', 'encrypted_pin', 'encrypted_pin is not a JWE in compact serialization']);
  });

  it('refuses a JWE whose ciphertext was tampered with', async () => {
    const parts = (await encrypt('{"pin":"5820"}', {})).split('.');
    parts[3] = `${parts[3].slice(0, -2)}${parts[3].endsWith('AA') ? 'BB' : 'AA'}`;
    expect(refusal(parts.join('.'))).toEqual([400, 'validation_error', 'encrypted_pin', 'encrypted_pin could not be decrypted']);
  });

  it.each([
    ['not JSON', 'pin=5820', 'does not hold a JSON object'],
    ['a PIN as a number', '{"pin":5820}', 'does not hold {"pin": "<PIN>"}'],
    ['null', 'null', 'does not hold {"pin": "<PIN>"}'],
  ])('refuses a plaintext that is %s, never quoting it', async (_case, plaintext, predicate) => {
    expect(refusal(await encrypt(plaintext, {}))).toEqual([400, 'validation_error', 'encrypted_pin', `encrypted_pin ${predicate}`]);
  });
});
