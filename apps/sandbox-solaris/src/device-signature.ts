import { createPublicKey, KeyObject, verify } from 'node:crypto';

const UNCOMPRESSED_P256 = /^04[0-9a-fA-F]{128}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const RAW_SIGNATURE_BYTES = 64;

/**
 * A device-binding public key as Solaris registers it: an uncompressed P-256 point in hex
 * (`04` + x + y). Throws a RangeError unless it is one, a point on the curve included.
 */
export function deviceKeyFromHex(publicKeyHex: string): KeyObject {
  if (!UNCOMPRESSED_P256.test(publicKeyHex)) throw new RangeError('publicKey must be an uncompressed P-256 point in hex: 04 followed by 128 hex digits');
  const point = Buffer.from(publicKeyHex.slice(2), 'hex');
  const coordinate = (bytes: Buffer) => bytes.toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: coordinate(point.subarray(0, 32)), y: coordinate(point.subarray(32)) }, format: 'jwk' });
  } catch {
    throw new RangeError('publicKey is not a point on the P-256 curve');
  }
}

/**
 * Checks a device's signature over the exact text it signed. Solaris does not document the
 * encoding; the sandbox takes ECDSA P-256 with SHA-256, base64 of the DER-encoded signature, and
 * also reads base64 of the raw r||s form (64 bytes), which some mobile crypto libraries produce.
 */
export function deviceSignatureIsValid(deviceKey: KeyObject, signedText: string, signature: string): boolean {
  if (!BASE64.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64');
  const data = Buffer.from(signedText, 'utf8');
  if (verify('sha256', data, { key: deviceKey, dsaEncoding: 'der' }, bytes)) return true;
  return bytes.length === RAW_SIGNATURE_BYTES && verify('sha256', data, { key: deviceKey, dsaEncoding: 'ieee-p1363' }, bytes);
}
