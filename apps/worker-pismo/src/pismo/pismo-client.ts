import { z } from 'zod';
import type { VendorCallResult } from './vendor-response';

export interface PismoClientOptions {
  pciBaseUrl: string;
  apiBaseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().optional(),
});

/** When Pismo does not say how long a token lives. */
const DEFAULT_TOKEN_LIFETIME_S = 60;

/** A bearer token, or why none could be had. */
type TokenResult = { kind: 'token'; token: string } | VendorCallResult;

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function isUnauthorized(result: VendorCallResult): boolean {
  return result.kind === 'answered' && result.status === 401;
}

function isTimeout(error: unknown): boolean {
  // By name, not class: fetch's DOMException can come from another realm (it does under Jest).
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * Pismo's two endpoints behind one client-credentials token. The token is cached and shared by
 * concurrent calls; a 401 gets one fresh token and one more try, since Pismo's tokens can expire early.
 */
export class PismoClient {
  private cached?: { token: string; refreshAt: number };
  private pending?: Promise<TokenResult>;

  constructor(
    private readonly options: PismoClientOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** PUT /pcicards/v2/pcicards/card/{cardId}; 201 with `"[<cid>] Card updated"` on success. */
  changePin(cardId: string, pin: string, syncOfflinePin: boolean, cid: string): Promise<VendorCallResult> {
    const url = join(this.options.pciBaseUrl, `/pcicards/v2/pcicards/card/${encodeURIComponent(cardId)}`);
    return this.authorized(url, 'PUT', cid, JSON.stringify({ pin, sync_offline_pin: syncOfflinePin }));
  }

  /** POST /wallet/v2/cards/{cardId}/password-tries/increase; 200 on success. */
  increasePasswordTries(cardId: string, blockCardExceedsCounter: boolean, cid: string): Promise<VendorCallResult> {
    const url = join(this.options.apiBaseUrl, `/wallet/v2/cards/${encodeURIComponent(cardId)}/password-tries/increase`);
    return this.authorized(url, 'POST', cid, JSON.stringify({ block_card_exceeds_counter: blockCardExceedsCounter }));
  }

  private async authorized(url: string, method: string, cid: string, body: string): Promise<VendorCallResult> {
    const send = (token: string) =>
      this.exchange(url, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json', 'x-cid': cid },
        body,
      });
    const first = await this.token();
    if (first.kind !== 'token') return first;
    const result = await send(first.token);
    if (!isUnauthorized(result)) return result;
    this.forget(first.token);
    const fresh = await this.token();
    if (fresh.kind !== 'token') return fresh;
    const retried = await send(fresh.token);
    // A refused token is not offered again, even when the refusal is final for this call.
    if (isUnauthorized(retried)) this.forget(fresh.token);
    return retried;
  }

  private async exchange(url: string, init: RequestInit): Promise<VendorCallResult> {
    try {
      // A redirect would carry the PIN to a host nobody configured: it is an answer, not a hop.
      const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs) });
      return { kind: 'answered', status: response.status, body: await response.text() };
    } catch (error) {
      return { kind: 'unreachable', cause: isTimeout(error) ? 'timeout' : 'connection' };
    }
  }

  private token(): Promise<TokenResult> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve({ kind: 'token', token: this.cached.token });
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private forget(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<TokenResult> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
    const result = await this.exchange(this.options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
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
    // Renewed after nine tenths of its lifetime, so a token never expires while a call is on its way.
    const lifetimeMs = (parsed.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    this.cached = { token: parsed.access_token, refreshAt: this.now() + lifetimeMs * 0.9 };
    return { kind: 'token', token: parsed.access_token };
  }
}
