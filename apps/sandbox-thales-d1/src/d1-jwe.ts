import { calculateJwkThumbprint, CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { VendorError } from '@pinflow/sandbox-kit';

// D1's convention for sensitive data: compact JWE, ECDH-ES key agreement on P-256, A256GCM content
// encryption, and the recipient's key named by `kid`.
export const D1_JWE_ALG = 'ECDH-ES';
export const D1_JWE_ENC = 'A256GCM';

/** A P-256 public key in JWK form, as the parties exchange them at onboarding. */
export interface D1PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof D1_JWE_ALG;
  use: 'enc';
}

async function publicJwkOf(jwk: JWK, kid?: string): Promise<D1PublicJwk> {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || crv !== 'P-256' || x === undefined || y === undefined) throw new RangeError('not a P-256 public key');
  return { kty: 'EC', crv: 'P-256', x, y, kid: kid ?? (await calculateJwkThumbprint({ kty, crv, x, y })), alg: D1_JWE_ALG, use: 'enc' };
}

const invalidJwe = (message: string) => new VendorError(400, 'INVALID_ENCRYPTED_PIN_BLOCK', message);

/**
 * The CMS's encryption key pair, which D1 encrypts PIN blocks to. Generated at start-up and held only
 * in memory; its `kid` is the RFC 7638 thumbprint of the public key.
 */
export class CmsEncryptionKey {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicJwk: D1PublicJwk,
  ) {}

  static async generate(): Promise<CmsEncryptionKey> {
    const { privateKey, publicKey } = await generateKeyPair(D1_JWE_ALG, { crv: 'P-256', extractable: true });
    return new CmsEncryptionKey(privateKey, await publicJwkOf(await exportJWK(publicKey)));
  }

  /** Decrypts a JWE sent to this key; refusals say which rule failed, never quote the input. */
  async decrypt(jwe: string): Promise<string> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(jwe).kid;
    } catch {
      throw invalidJwe('encryptedPinBlock is not a compact JWE');
    }
    if (kid !== this.publicJwk.kid) throw invalidJwe("encryptedPinBlock must name the CMS's encryption key in its kid header");
    try {
      const { plaintext } = await compactDecrypt(jwe, this.privateKey, { keyManagementAlgorithms: [D1_JWE_ALG], contentEncryptionAlgorithms: [D1_JWE_ENC] });
      return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    } catch {
      throw invalidJwe(`encryptedPinBlock could not be decrypted: it must be a ${D1_JWE_ALG}/${D1_JWE_ENC} JWE to the CMS's key, untampered`);
    }
  }
}

/** D1's public key, which the CMS encrypts the PIN blocks it answers with to. */
export class CallerKey {
  private current?: { key: CryptoKey | Uint8Array; jwk: D1PublicJwk };

  /** Takes a P-256 public JWK; a JWK without `kid` is named by its thumbprint. */
  async register(jwk: JWK): Promise<D1PublicJwk> {
    const publicJwk = await publicJwkOf(jwk, jwk.kid);
    this.current = { key: await importJWK(publicJwk, D1_JWE_ALG), jwk: publicJwk };
    return publicJwk;
  }

  get registered(): D1PublicJwk | undefined {
    return this.current?.jwk;
  }

  async encrypt(plaintext: string): Promise<string> {
    if (!this.current) throw new VendorError(500, 'CALLER_KEY_MISSING', "No D1 public key was exchanged with the CMS, so it cannot encrypt D1's PIN block");
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: D1_JWE_ALG, enc: D1_JWE_ENC, kid: this.current.jwk.kid })
      .encrypt(this.current.key);
  }
}
