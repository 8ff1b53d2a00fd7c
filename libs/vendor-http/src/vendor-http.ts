import { type Dispatcher, request as undiciRequest } from 'undici';

/** What one exchange with a vendor came to, before any policy decides what it means. */
export type VendorCallResult =
  | { kind: 'answered'; status: number; body: string }
  /**
   * No usable answer, and why:
   * - `timeout`: none in time; the request may have reached the vendor and been applied.
   * - `reset`: the connection broke after it was made, so the request may have been sent and applied.
   * - `connection`: no connection could be made (refused, unknown host, unreachable): nothing was sent.
   * - `token_unreachable`: the token endpoint gave no answer, so the call itself was never sent.
   * - `malformed_token_response`: the token endpoint answered something unreadable.
   */
  | { kind: 'unreachable'; cause: 'timeout' | 'reset' | 'connection' | 'token_unreachable' | 'malformed_token_response' }
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

/** undici's own timeouts, should a vendor stall between headers and body longer than the call's. */
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function isTimeout(error: unknown): boolean {
  // By name, not class: the abort signal's DOMException can come from another realm (it does under Jest).
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'TimeoutError' || name === 'AbortError' || (typeof code === 'string' && TIMED_OUT.has(code));
}

/** Socket errors that happen before a connection exists, so before any byte of the request left. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Why the exchange failed. The error does not say whether the request was written before the connection
 * broke, so only errors known to come before the connection count as `connection`; any other failure (a
 * reset, the vendor closing the socket) may have come after the vendor read the request and counts as `reset`.
 */
function causeOf(error: unknown): 'timeout' | 'reset' | 'connection' {
  if (isTimeout(error)) return 'timeout';
  // The socket's error itself, or (several addresses failed) an AggregateError carrying the first one's code.
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  const socketCode = code ?? cause?.code;
  return typeof socketCode === 'string' && NOT_CONNECTED.has(socketCode) ? 'connection' : 'reset';
}

function encodeBody(body: unknown): { contentType?: string; payload?: string } {
  if (body === undefined) return {};
  if (body instanceof URLSearchParams) return { contentType: 'application/x-www-form-urlencoded', payload: body.toString() };
  return { contentType: 'application/json', payload: JSON.stringify(body) };
}

/**
 * One HTTP exchange, never throwing: an answer of any status, or why there was none. A request may
 * carry a secret, so nothing of it is logged here, and redirects are answers, not hops (undici's
 * `request` follows none): one would carry the secret to a host nobody configured. undici's `request`
 * rather than `fetch`, which costs several times the CPU per call in web-stream plumbing.
 */
export async function sendToVendor(request: VendorRequest, timeoutMs: number): Promise<VendorCallResult> {
  const { contentType, payload } = encodeBody(request.body);
  try {
    const response = await undiciRequest(request.url, {
      method: request.method as Dispatcher.HttpMethod,
      headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}), ...request.headers },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { kind: 'answered', status: response.statusCode, body: await response.body.text() };
  } catch (error) {
    return { kind: 'unreachable', cause: causeOf(error) };
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
