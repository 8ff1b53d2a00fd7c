import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AUTH_KEY_SOURCE_RULE, JWT_ALGORITHMS, type AuthConfig } from './auth-config';

/** Who a verified access token speaks for. */
export interface AuthenticatedPrincipal {
  subject: string;
  clientId?: string;
  /** The organisation the caller belongs to, from the AUTH_TENANT_CLAIM claim; callers of a tenant see each other's requests. */
  tenant?: string;
  scopes: ReadonlySet<string>;
}

export const DEFAULT_TENANT_CLAIM = 'tenant';

export type TokenRejectionCode = 'TOKEN_INVALID' | 'TOKEN_EXPIRED';

/** The token itself is at fault (as opposed to, say, an unreachable JWKS endpoint). */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(
    readonly code: TokenRejectionCode,
    options?: ErrorOptions,
  ) {
    super(code === 'TOKEN_EXPIRED' ? 'The access token has expired' : 'The access token is invalid', options);
  }
}

/**
 * The keys to check tokens with could not be had: the JWKS endpoint is down, slow, or serves no valid
 * key set. Nothing is known about the token; the caller may retry once the issuer's keys are back.
 */
export class KeySetUnavailableError extends Error {
  override readonly name = 'KeySetUnavailableError';

  constructor(options?: ErrorOptions) {
    super("The issuer's signing keys cannot be fetched", options);
  }
}

const CLOCK_TOLERANCE_SECONDS = 30;

/** Faults of a token or signature itself, as opposed to a failure to get the keys to check it with. */
export const SIGNATURE_FAULTS = [
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  // A token without a kid that several keys of the set could have signed: it does not say which.
  errors.JWKSMultipleMatchingKeys,
];

const accessTokenClaims = z.object({
  sub: z.string().min(1),
  /** RFC 9068 names the client `client_id`; OpenID Connect providers such as Keycloak use `azp`. */
  client_id: z.string().min(1).optional(),
  azp: z.string().min(1).optional(),
  scope: z.string().optional(),
  /** An array at Okta, a space-separated string at Microsoft Entra. */
  scp: z.union([z.array(z.string()), z.string()]).optional(),
});

const tenantClaimValue = z.string().min(1).optional();

function scopeList(value: string | string[] | undefined): string[] {
  return typeof value === 'string' ? value.split(' ') : (value ?? []);
}

const publicJwk = z
  .looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().min(1).optional() })
  .refine((jwk) => !('d' in jwk), 'must be a public key, but holds private key material');

const publicJwks = z.object({ keys: z.array(publicJwk).min(1) });

/** The public keys of a file holding a JWK, a JWKS or a PEM SPKI key; `setting` names where the file was configured, for errors. */
export async function readPublicKeys(file: string, setting = 'AUTH_PUBLIC_KEY_FILE'): Promise<JWK[]> {
  const text = await readFile(file, 'utf8');
  if (text.includes('-----BEGIN')) {
    if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new Error(`${setting} ${file}: a PEM file must hold a "PUBLIC KEY" (SPKI)`);
    }
    return [createPublicKey(text).export({ format: 'jwk' }) as JWK];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${setting} ${file}: neither PEM nor JSON`);
  }
  const isSet = typeof value === 'object' && value !== null && 'keys' in value;
  const parsed = publicJwks.safeParse(isSet ? value : { keys: [value] });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`${setting} ${file}: ${problems.join('; ')}`);
  }
  return parsed.data.keys as JWK[];
}

export function localKeyResolver(keys: JWK[]): JWTVerifyGetKey {
  const jwks = createLocalJWKSet({ keys });
  if (keys.length === 1 && keys[0].kid === undefined) {
    // A lone key without kid (every PEM key) is the only candidate, yet a JWKS lookup would refuse it
    // for any token that names a kid.
    return (header, token) => jwks({ ...header, kid: undefined }, token);
  }
  return jwks;
}

/**
 * How long a token, once verified, is taken on its word without checking its signature again (never
 * past its own `exp`). Callers send the same access token for minutes on end; checking its ES256 or RSA
 * signature on every request cost intake more CPU than decrypting the PIN. The price: a signing key
 * withdrawn from the issuer's JWKS stops its tokens here up to this much later.
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Enough for every caller's current token; beyond it the oldest entry goes first. */
export const VERIFIED_TOKEN_CACHE_SIZE = 1024;

interface VerifiedToken {
  principal: AuthenticatedPrincipal;
  /** Epoch ms after which the token is verified afresh: the sooner of its `exp` and the TTL. */
  until: number;
}

/** Verifies bearer access tokens: signature, issuer, audience, expiry and issue time. */
export class JwtVerifier {
  /** Keyed by the token's exact text: the same bytes under the same signature verify the same way. */
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly expected: { issuer: string; audience: string },
    private readonly tenantClaim = DEFAULT_TENANT_CLAIM,
    private readonly now: () => number = Date.now,
  ) {}

  static async fromConfig(config: AuthConfig): Promise<JwtVerifier> {
    const expected = { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE };
    if (config.AUTH_JWKS_URL !== undefined && config.AUTH_PUBLIC_KEY_FILE === undefined) {
      return new JwtVerifier(createRemoteJWKSet(new URL(config.AUTH_JWKS_URL)), expected, config.AUTH_TENANT_CLAIM);
    }
    if (config.AUTH_PUBLIC_KEY_FILE !== undefined && config.AUTH_JWKS_URL === undefined) {
      return new JwtVerifier(localKeyResolver(await readPublicKeys(config.AUTH_PUBLIC_KEY_FILE)), expected, config.AUTH_TENANT_CLAIM);
    }
    throw new Error(AUTH_KEY_SOURCE_RULE);
  }

  /**
   * Resolves to the token's principal, or rejects with {@link TokenRejectedError} when the token is at
   * fault, or {@link KeySetUnavailableError} for anything else: a failure to get the keys (JWKS
   * endpoint unreachable, JWKSTimeout, JWKSInvalid, a non-200 answer) is no reason to refuse the token.
   */
  async verify(token: string): Promise<AuthenticatedPrincipal> {
    const now = this.now();
    const known = this.verified.get(token);
    if (known !== undefined && now < known.until) return known.principal;
    this.verified.delete(token);
    const { principal, expiresAt } = await this.verifySignedToken(token);
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { principal, until: Math.min(expiresAt, now + VERIFIED_TOKEN_TTL_MS) });
    return principal;
  }

  private async verifySignedToken(token: string): Promise<{ principal: AuthenticatedPrincipal; expiresAt: number }> {
    const { payload } = await jwtVerify(token, this.keys, {
      ...this.expected,
      algorithms: [...JWT_ALGORITHMS],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(this.now()),
      requiredClaims: ['exp', 'sub'],
    }).catch((error: unknown) => {
      if (error instanceof errors.JWTExpired) throw new TokenRejectedError('TOKEN_EXPIRED', { cause: error });
      if (SIGNATURE_FAULTS.some((fault) => error instanceof fault)) throw new TokenRejectedError('TOKEN_INVALID', { cause: error });
      throw new KeySetUnavailableError({ cause: error });
    });
    // jose checks `iat` only against a maximum age: a token issued in the future comes from a wrong
    // clock, or was made to outlive the lifetime its issuer allows.
    if (payload.iat !== undefined && payload.iat > this.now() / 1000 + CLOCK_TOLERANCE_SECONDS) throw new TokenRejectedError('TOKEN_INVALID');
    const claims = accessTokenClaims.safeParse(payload);
    if (!claims.success) throw new TokenRejectedError('TOKEN_INVALID', { cause: claims.error });
    // A tenant claim of another shape (a list, an object) cannot name one tenant: visibility must not guess.
    const tenant = tenantClaimValue.safeParse(payload[this.tenantClaim]);
    if (!tenant.success) throw new TokenRejectedError('TOKEN_INVALID', { cause: tenant.error });
    const { sub, client_id, azp, scope, scp } = claims.data;
    const principal = {
      subject: sub,
      clientId: client_id ?? azp,
      ...(tenant.data === undefined ? {} : { tenant: tenant.data }),
      scopes: new Set([...scopeList(scope), ...scopeList(scp)].filter(Boolean)),
    };
    // requiredClaims makes jose refuse a token without a numeric exp.
    return { principal, expiresAt: (payload.exp as number) * 1000 };
  }
}
