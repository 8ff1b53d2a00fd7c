import { SolarisDevice } from '@pinflow/testing';
import { decryptPin } from './encrypted-pin';
import { PinKeys } from './pin-keys';

describe("Solaris' PIN key", () => {
  let keys: PinKeys;

  beforeAll(async () => {
    keys = await PinKeys.generate();
  });

  it('is published as the RSA JWK Solaris documents, alg RS256 included', () => {
    expect(keys.latest).toEqual({ kid: expect.stringMatching(/^[0-9a-f]{32}$/), kty: 'RSA', use: 'enc', alg: 'RS256', n: expect.any(String), e: 'AQAB' });
    expect(Buffer.from(keys.latest.n, 'base64url')).toHaveLength(256);
  });

  it('after a rotation, no longer knows the previous key id and decrypts PINs sent to the new key', async () => {
    const before = keys.latest;
    const after = await keys.rotate();

    expect(after.kid).not.toBe(before.kid);
    expect(after.n).not.toBe(before.n);
    expect(keys.latest).toEqual(after);
    expect(keys.find(before.kid)).toBeUndefined();
    const { encrypted_pin, key_id } = await new SolarisDevice().encryptAndSign('7392', after);
    expect(await decryptPin(encrypted_pin, keys.find(key_id)!)).toBe('7392');
  });

  it('knows no key id it never made', () => {
    expect(keys.find('')).toBeUndefined();
    expect(keys.find('unknown')).toBeUndefined();
  });
});
