import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { D1Error, TokenRefusal } from './d1-errors';

/** D1 has one use for the tokens pinflow issues it, so they carry one scope. */
export const D1_TOKEN_SCOPE = 'pin_management';
const ISSUER = 'pinflow-intake';
const AUDIENCE = 'pinflow-d1-pin-management';

export interface D1TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: typeof D1_TOKEN_SCOPE;
}

const unauthorized = () => new D1Error(401, 'UNAUTHORIZED', 'A valid bearer token from /authz/d1/v1/oauth2/token is required');
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * D1's access-token flow at the CMS: client credentials in, a short-lived JWT out, checked on every
 * PIN Management call. Tokens are HS256 under a key derived from D1's client secret, so every intake
 * replica issues and accepts the same tokens with nothing more to share, and rotating the secret
 * revokes them all.
 */
export class D1AccessTokens {
  private readonly key: Uint8Array;

  constructor(
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = new Uint8Array(hkdfSync('sha256', clientSecret, 'pinflow', 'd1-inbound access tokens', 32));
  }

  /** `Authorization: Basic` client credentials (RFC 6749 2.3.1) and a client_credentials grant. */
  async issue(authorization: string | undefined, grantType: unknown): Promise<D1TokenResponse> {
    if (typeof grantType !== 'string') throw new TokenRefusal(400, 'invalid_request');
    if (grantType !== 'client_credentials') throw new TokenRefusal(400, 'unsupported_grant_type');
    if (!this.credentialsMatch(authorization)) throw new TokenRefusal(401, 'invalid_client');
    const token = await new SignJWT({ scope: D1_TOKEN_SCOPE })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(this.clientId)
      .setIssuedAt(this.now())
      .setExpirationTime(new Date(this.now().getTime() + this.ttlSeconds * 1000))
      .sign(this.key);
    return { access_token: token, token_type: 'Bearer', expires_in: this.ttlSeconds, scope: D1_TOKEN_SCOPE };
  }

  /** The D1 client a bearer token was issued to; D1's 401 otherwise. */
  async verify(authorization: string | undefined): Promise<string> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '');
    if (!match) throw unauthorized();
    try {
      const { payload } = await jwtVerify(match[1], this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, subject: this.clientId, typ: 'at+jwt', requiredClaims: ['exp'], currentDate: this.now() });
      if (payload.scope !== D1_TOKEN_SCOPE) throw unauthorized();
    } catch {
      throw unauthorized();
    }
    return this.clientId;
  }

  private credentialsMatch(authorization: string | undefined): boolean {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(authorization ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    let id: string, secret: string;
    try {
      [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)].map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    } catch {
      return false;
    }
    // Both compared, in constant time, whatever the first gives.
    const idMatches = timingSafeEqual(digest(id), digest(this.clientId));
    const secretMatches = timingSafeEqual(digest(secret), digest(this.clientSecret));
    return idMatches && secretMatches;
  }
}
