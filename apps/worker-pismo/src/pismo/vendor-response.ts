/** What one exchange with Pismo came to, before any policy decides what it means. */
export type VendorCallResult =
  | { kind: 'answered'; status: number; body: string }
  /** No usable answer: timed out, the connection failed, or the token endpoint sent something unreadable. */
  | { kind: 'unreachable'; cause: 'timeout' | 'connection' | 'malformed_token_response' }
  /** The token endpoint refused our client credentials (a 4xx there). */
  | { kind: 'token_refused'; status: number };

export function isSuccess(result: VendorCallResult): boolean {
  return result.kind === 'answered' && result.status >= 200 && result.status < 300;
}

export function vendorStatusOf(result: VendorCallResult): number | undefined {
  return result.kind === 'unreachable' ? undefined : result.status;
}

/**
 * Pismo answers a password change with a JSON string, `"[<cid>] Card updated"`; the cid in it is the
 * correlation id its events will carry. Undefined when the body does not have that shape.
 */
export function correlationIdFromCardUpdated(body: string): string | undefined {
  // parseJson falls back to the bare text, which has the same shape when a gateway strips the quotes.
  const text = parseJson(body);
  if (typeof text !== 'string') return undefined;
  return /^\s*\[([^\]\s]+)\]/.exec(text)?.[1];
}

export interface VendorErrorSummary {
  code?: string;
  title?: string;
  detail?: string;
}

const MAX_TEXT = 200;

// An error text may echo the request it rejects, and that request may have carried a PIN: digit runs
// as long as a PIN are masked (unless they end an error code such as WAL0007), and texts are cut
// short, before anything leaves the worker.
function scrub(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).replace(/(?<![A-Za-z])\d{4,}/g, '[digits]').trim().slice(0, MAX_TEXT);
  return text.length > 0 ? text : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A short, PIN-free summary of an error body Pismo sent (JSON or text); undefined when it says nothing. */
export function summarizeVendorError(body: string): VendorErrorSummary | undefined {
  const parsed = parseJson(body);
  const fields: Record<string, unknown> =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { detail: parsed };
  const summary: VendorErrorSummary = {};
  const code = scrub(fields.code ?? fields.error_code ?? fields.errorCode);
  const title = scrub(fields.title ?? fields.error);
  const detail = scrub(fields.detail ?? fields.message);
  if (code) summary.code = code;
  if (title) summary.title = title;
  if (detail) summary.detail = detail;
  return Object.keys(summary).length > 0 ? summary : undefined;
}
