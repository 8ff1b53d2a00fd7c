import { CompactEncrypt } from 'jose';
import { createPublicKey, generateKeyPairSync, KeyObject, randomUUID, sign } from 'node:crypto';

/** Solaris' PIN key as `GET /v1/cards/pin_keys/latest` serves it (its `alg` says RS256, yet it is used for RSA-OAEP-256). */
export interface SolarisPinJwk {
  kid: string;
  kty: 'RSA';
  n: string;
  e: string;
  use?: string;
  alg?: string;
}

/** The device-made fields of Solaris' `POST /v1/cards/{id}/pin_update_requests`. */
export interface SolarisSignedPin {
  encrypted_pin: string;
  signature: string;
  key_id: string;
}

/**
 * A cardholder's phone, as Solaris expects it: a bound device with a P-256 device-binding key that
 * encrypts the new PIN to Solaris' RSA key and signs the resulting JWE. The backend only relays what
 * it produces. Signatures are ECDSA with SHA-256, base64 of the DER encoding (the choice the Solaris
 * sandbox documents).
 */
export class SolarisDevice {
  /** The uncompressed P-256 public key (`04` + x + y, hex) that device binding registers. */
  readonly publicKeyHex: string;
  private readonly privateKey: KeyObject;

  constructor(readonly id: string = randomUUID()) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const { x, y } = publicKey.export({ format: 'jwk' });
    this.publicKeyHex = `04${Buffer.from(x!, 'base64url').toString('hex')}${Buffer.from(y!, 'base64url').toString('hex')}`;
  }

  /** Encrypts `{"pin": pin}` to Solaris' key (RSA-OAEP-256, A256CBC-HS512, kid) and signs the compact JWE. */
  async encryptAndSign(pin: string, solarisJwk: SolarisPinJwk): Promise<SolarisSignedPin> {
    // Imported with node:crypto rather than jose: the JWK's documented `alg: RS256` is not the algorithm it is used for.
    const key = createPublicKey({ key: { kty: solarisJwk.kty, n: solarisJwk.n, e: solarisJwk.e }, format: 'jwk' });
    const encryptedPin = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ pin })))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512', kid: solarisJwk.kid })
      .encrypt(key);
    return { encrypted_pin: encryptedPin, signature: this.sign(encryptedPin), key_id: solarisJwk.kid };
  }

  /** ECDSA P-256 / SHA-256 over the UTF-8 text; `raw` gives r||s (64 bytes) instead of DER, to test other encodings. */
  sign(text: string, encoding: 'der' | 'raw' = 'der'): string {
    const dsaEncoding = encoding === 'der' ? 'der' : 'ieee-p1363';
    return sign('sha256', Buffer.from(text, 'utf8'), { key: this.privateKey, dsaEncoding }).toString('base64');
  }
}
