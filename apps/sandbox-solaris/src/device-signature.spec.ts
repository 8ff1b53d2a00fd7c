import { SolarisDevice } from '@pinflow/testing';
import { deviceKeyFromHex, deviceSignatureIsValid } from './device-signature';
import { PinKeys } from './pin-keys';

describe('device signatures', () => {
  const device = new SolarisDevice();
  const deviceKey = deviceKeyFromHex(device.publicKeyHex);
  let keys: PinKeys;

  beforeAll(async () => {
    keys = await PinKeys.generate();
  });

  it("accept the device's base64 DER signature over the exact JWE it produced", async () => {
    const { encrypted_pin, signature } = await device.encryptAndSign('7392', keys.latest);
    expect(Buffer.from(signature, 'base64')[0]).toBe(0x30); // a DER SEQUENCE
    expect(deviceSignatureIsValid(deviceKey, encrypted_pin, signature)).toBe(true);
  });

  it('refuse the signature once one character of the JWE changed', async () => {
    const { encrypted_pin, signature } = await device.encryptAndSign('7392', keys.latest);
    const last = encrypted_pin.at(-1) === 'A' ? 'B' : 'A';
    expect(deviceSignatureIsValid(deviceKey, `${encrypted_pin.slice(0, -1)}${last}`, signature)).toBe(false);
  });

  it('refuse a signature made with another device key', async () => {
    const { encrypted_pin, signature } = await new SolarisDevice().encryptAndSign('7392', keys.latest);
    expect(deviceSignatureIsValid(deviceKey, encrypted_pin, signature)).toBe(false);
  });

  it('also accept the raw r||s encoding (64 bytes, base64)', async () => {
    const { encrypted_pin } = await device.encryptAndSign('7392', keys.latest);
    const raw = device.sign(encrypted_pin, 'raw');
    expect(Buffer.from(raw, 'base64')).toHaveLength(64);
    expect(deviceSignatureIsValid(deviceKey, encrypted_pin, raw)).toBe(true);
    expect(deviceSignatureIsValid(deviceKey, `${encrypted_pin}x`, raw)).toBe(false);
  });

  it('refuse other encodings: hex, base64url with its own alphabet, and empty', async () => {
    const { encrypted_pin, signature } = await device.encryptAndSign('7392', keys.latest);
    const der = Buffer.from(signature, 'base64');
    expect(deviceSignatureIsValid(deviceKey, encrypted_pin, der.toString('hex'))).toBe(false);
    const urlSafe = der.toString('base64url');
    if (/[-_]/.test(urlSafe)) expect(deviceSignatureIsValid(deviceKey, encrypted_pin, urlSafe)).toBe(false);
    expect(deviceSignatureIsValid(deviceKey, encrypted_pin, '')).toBe(false);
  });
});

describe('device keys', () => {
  it('are read from the uncompressed hex form device binding registers', () => {
    const device = new SolarisDevice();
    expect(device.publicKeyHex).toMatch(/^04[0-9a-f]{128}$/);
    expect(deviceKeyFromHex(device.publicKeyHex).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  });

  it.each([
    ['a compressed point', `02${'ab'.repeat(32)}`],
    ['a point off the curve', `04${'11'.repeat(64)}`],
    ['base64 instead of hex', Buffer.alloc(65, 4).toString('base64')],
  ])('refuse %s', (_case, hex) => {
    expect(() => deviceKeyFromHex(hex)).toThrow(RangeError);
  });
});
