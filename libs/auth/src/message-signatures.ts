import { compactVerify, createRemoteJWKSet, decodeProtectedHeader, type JWTVerifyGetKey } from 'jose';
import { JWT_ALGORITHMS } from './auth-config';
import { KeySetUnavailableError, localKeyResolver, readPublicKeys, SIGNATURE_FAULTS } from './jwt-verifier';

/** Where a requester's public keys are: a JWKS URL, or a file with a JWK, a JWKS or a PEM SPKI key. */
export type KeySource = { jwksUrl: string } | { publicKeyFile: string };

/** The message carries no signature, or one that names no registered requester or does not verify. */
export class SignatureRejectedError extends Error {
  override readonly name = 'SignatureRejectedError';

  constructor(detail: string, options?: ErrorOptions) {
    super(`The message signature is not valid: ${detail}`, options);
  }
}

/**
 * Verifies signed messages like bearer tokens: a compact JWS with detached payload (RFC 7515
 * appendix F) over a message's exact bytes, whose protected header names the requester (`iss`) and
 * its key (`kid`), resolved from the JWKS registered for that requester.
 */
export class MessageSignatureVerifier {
  private constructor(private readonly requesters: ReadonlyMap<string, JWTVerifyGetKey>) {}

  static async fromKeySources(sources: Record<string, KeySource>, setting: string): Promise<MessageSignatureVerifier> {
    const requesters = new Map<string, JWTVerifyGetKey>();
    for (const [requester, source] of Object.entries(sources)) {
      requesters.set(requester, 'jwksUrl' in source ? createRemoteJWKSet(new URL(source.jwksUrl)) : localKeyResolver(await readPublicKeys(source.publicKeyFile, `${setting} ${requester}`)));
    }
    return new MessageSignatureVerifier(requesters);
  }

  /**
   * The requester who signed `payload`; rejects with {@link SignatureRejectedError}, or with
   * {@link KeySetUnavailableError} when the requester's keys cannot be had (nothing is known then).
   */
  async verify(payload: Uint8Array, detachedJws: string | undefined): Promise<string> {
    const parts = detachedJws?.split('.');
    if (!parts || parts.length !== 3 || parts[1] !== '') throw new SignatureRejectedError('expected a compact JWS with detached payload');
    let requester: unknown;
    try {
      requester = decodeProtectedHeader(detachedJws!).iss;
    } catch (error) {
      throw new SignatureRejectedError('unreadable protected header', { cause: error });
    }
    const keys = typeof requester === 'string' ? this.requesters.get(requester) : undefined;
    if (!keys) throw new SignatureRejectedError('the protected header names no registered requester (iss)');
    const attached = `${parts[0]}.${Buffer.from(payload).toString('base64url')}.${parts[2]}`;
    await compactVerify(attached, keys, { algorithms: [...JWT_ALGORITHMS] }).catch((error: unknown) => {
      if (SIGNATURE_FAULTS.some((fault) => error instanceof fault)) throw new SignatureRejectedError('it does not verify with the requester\'s keys', { cause: error });
      throw new KeySetUnavailableError({ cause: error });
    });
    return requester as string;
  }
}
