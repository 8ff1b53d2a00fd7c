/** What one exchange with a vendor came to, before any policy decides what it means. */
export type VendorCallResult =
  | { kind: 'answered'; status: number; body: string }
  /** No usable answer: timed out, the connection failed, or the token endpoint sent something unreadable. */
  | { kind: 'unreachable'; cause: 'timeout' | 'connection' | 'malformed_token_response' }
  /** The token endpoint refused our client credentials (a 4xx there). */
  | { kind: 'token_refused'; status: number };

export type VendorAnswered = Extract<VendorCallResult, { kind: 'answered' }>;

export interface VendorRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON; URLSearchParams are sent as a form. */
  body?: unknown;
}

export function isSuccess(result: VendorCallResult): result is VendorAnswered {
  return result.kind === 'answered' && result.status >= 200 && result.status < 300;
}

export function vendorStatusOf(result: VendorCallResult): number | undefined {
  return result.kind === 'unreachable' ? undefined : result.status;
}

/** A vendor URL from a configured base (with or without a trailing slash) and an API path. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function isTimeout(error: unknown): boolean {
  // By name, not class: fetch's DOMException can come from another realm (it does under Jest).
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * One HTTP exchange, never throwing: an answer of any status, or why there was none. A request may
 * carry a secret, so nothing of it is logged here and redirects are not followed.
 */
export async function sendToVendor(request: VendorRequest, timeoutMs: number): Promise<VendorCallResult> {
  const form = request.body instanceof URLSearchParams;
  const json = request.body !== undefined && !form;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: { accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}), ...request.headers },
      body: json ? JSON.stringify(request.body) : (request.body as URLSearchParams | undefined),
      // A redirect would carry the secret to a host nobody configured: it is an answer, not a hop.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { kind: 'answered', status: response.status, body: await response.text() };
  } catch (error) {
    return { kind: 'unreachable', cause: isTimeout(error) ? 'timeout' : 'connection' };
  }
}

/** A body as JSON, or as the text it is when it is not JSON. */
export function parseJsonOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
