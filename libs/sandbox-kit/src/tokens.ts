import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compared through fixed-length digests, so neither the length nor the content leaks through timing. */
export function credentialsMatch(given: ClientCredentials, expected: ClientCredentials): boolean {
  const idMatches = timingSafeEqual(digest(given.clientId), digest(expected.clientId));
  const secretMatches = timingSafeEqual(digest(given.clientSecret), digest(expected.clientSecret));
  return idMatches && secretMatches;
}

/**
 * The `Authorization: Basic` form of client credentials (RFC 6749 2.3.1: each part form-encoded
 * before base64). Undefined when the header is absent or not Basic.
 */
export function basicCredentials(authorization: string | undefined): ClientCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (part: string) => {
    try {
      return decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      return part;
    }
  };
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
}

/** Opaque bearer tokens held in memory until they expire. */
export class TokenIssuer {
  private readonly expiries = new Map<string, number>();

  issue(ttlSeconds: number, now = Date.now()): TokenResponse {
    this.forgetExpired(now);
    const token = randomBytes(32).toString('base64url');
    this.expiries.set(token, now + ttlSeconds * 1000);
    return { access_token: token, token_type: 'Bearer', expires_in: ttlSeconds };
  }

  isValid(token: string, now = Date.now()): boolean {
    const expiry = this.expiries.get(token);
    return expiry !== undefined && now < expiry;
  }

  revokeAll(): void {
    this.expiries.clear();
  }

  private forgetExpired(now: number): void {
    for (const [token, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(token);
  }
}
