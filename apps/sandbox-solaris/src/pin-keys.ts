import { generateKeyPair, KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const RSA_MODULUS_BITS = 2048;

/**
 * Solaris' PIN key as it publishes it. `alg: "RS256"` is what Solaris documents, although the key is
 * used for RSA-OAEP-256 key encryption; devices have to ignore it.
 */
export interface SolarisPinJwk {
  kid: string;
  kty: 'RSA';
  use: 'enc';
  alg: 'RS256';
  n: string;
  e: string;
}

export interface PinKey {
  jwk: SolarisPinJwk;
  privateKey: KeyObject;
}

async function newPinKey(): Promise<PinKey> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: RSA_MODULUS_BITS });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { jwk: { kid: randomBytes(16).toString('hex'), kty: 'RSA', use: 'enc', alg: 'RS256', n: n!, e: e! }, privateKey };
}

/** Solaris' PIN key: one at a time, made at start-up; after a rotation the previous key id is refused. */
export class PinKeys {
  private constructor(private current: PinKey) {}

  static async generate(): Promise<PinKeys> {
    return new PinKeys(await newPinKey());
  }

  get latest(): SolarisPinJwk {
    return { ...this.current.jwk };
  }

  /** The key a PIN encrypted to `kid` can be decrypted with, if `kid` is the current one. */
  find(kid: string): PinKey | undefined {
    return kid === this.current.jwk.kid ? this.current : undefined;
  }

  async rotate(): Promise<SolarisPinJwk> {
    this.current = await newPinKey();
    return this.latest;
  }
}
