import { z } from 'zod';
import { sendToVendor, VendorCallResult, VendorRequest } from './vendor-http';

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /**
   * How the client proves itself at the token endpoint: in the form body (Pismo's passport), or as
   * HTTP Basic (RFC 6749 §2.3.1; Thales D1 at a CMS).
   */
  authStyle: 'body' | 'basic';
  /** Sent only when set. */
  scope?: string;
}

export interface OAuth2HttpOptions extends ClientCredentials {
  /** For the token request and for every call. */
  timeoutMs: number;
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
});

/** When the token endpoint does not say how long a token lives. */
const DEFAULT_TOKEN_LIFETIME_S = 60;

/** A bearer token, or why none could be had. */
export type TokenResult = { kind: 'token'; token: string } | VendorCallResult;

function isUnauthorized(result: VendorCallResult): boolean {
  return result.kind === 'answered' && result.status === 401;
}

/**
 * Why a call without a token ended. A token request that timed out or lost its connection may have
 * reached the token endpoint, but the call itself never left: nothing the vendor could have applied.
 */
function withoutToken(failure: VendorCallResult): VendorCallResult {
  const unanswered = failure.kind === 'unreachable' && (failure.cause === 'timeout' || failure.cause === 'reset');
  return unanswered ? { kind: 'unreachable', cause: 'token_unreachable' } : failure;
}

// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * OAuth2 client-credentials tokens: one at a time, shared by concurrent calls, renewed after nine
 * tenths of its lifetime so it never expires while a call is on its way.
 */
export class ClientCredentialsTokenProvider {
  private cached?: { token: string; refreshAt: number };
  private pending?: Promise<TokenResult>;

  constructor(
    private readonly options: OAuth2HttpOptions,
    private readonly now: () => number = Date.now,
  ) {}

  token(): Promise<TokenResult> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve({ kind: 'token', token: this.cached.token });
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops a token the vendor refused, so the next call asks for a fresh one. */
  forget(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<TokenResult> {
    const { tokenUrl, clientId, clientSecret, authStyle, scope, timeoutMs } = this.options;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (authStyle === 'body') {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    if (scope) form.set('scope', scope);
    const headers: Record<string, string> = authStyle === 'basic' ? { authorization: basicAuthorization(clientId, clientSecret) } : {};
    const result = await sendToVendor({ method: 'POST', url: tokenUrl, headers, body: form }, timeoutMs);
    if (result.kind !== 'answered') return result;
    if (result.status >= 400 && result.status < 500 && result.status !== 429) return { kind: 'token_refused', status: result.status };
    // The token endpoint's error body is dropped: it answers a request that carried our client secret.
    if (result.status < 200 || result.status >= 300) return { kind: 'answered', status: result.status, body: '' };
    let parsed: z.infer<typeof tokenResponse>;
    try {
      parsed = tokenResponse.parse(JSON.parse(result.body));
    } catch {
      return { kind: 'unreachable', cause: 'malformed_token_response' };
    }
    const lifetimeMs = (parsed.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    this.cached = { token: parsed.access_token, refreshAt: this.now() + lifetimeMs * 0.9 };
    return { kind: 'token', token: parsed.access_token };
  }
}

/**
 * Calls a vendor API with a client-credentials bearer token. A 401 gets one fresh token and one more
 * try, since vendors' tokens can expire early (Pismo's do).
 */
export class OAuth2HttpClient {
  private readonly tokens: ClientCredentialsTokenProvider;

  constructor(
    private readonly options: OAuth2HttpOptions,
    now: () => number = Date.now,
  ) {
    this.tokens = new ClientCredentialsTokenProvider(options, now);
  }

  async send(request: VendorRequest): Promise<VendorCallResult> {
    const send = (token: string) =>
      sendToVendor({ ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } }, this.options.timeoutMs);
    const first = await this.tokens.token();
    if (first.kind !== 'token') return withoutToken(first);
    const result = await send(first.token);
    if (!isUnauthorized(result)) return result;
    this.tokens.forget(first.token);
    const fresh = await this.tokens.token();
    if (fresh.kind !== 'token') return withoutToken(fresh);
    const retried = await send(fresh.token);
    // A refused token is not offered again, even when the refusal is final for this call.
    if (isUnauthorized(retried)) this.tokens.forget(fresh.token);
    return retried;
  }
}
