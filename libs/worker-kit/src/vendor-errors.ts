import { parseJsonOrText } from '@pinflow/vendor-http';
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


function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object that describes the error: the body itself, or the first entry of a JSON:API `errors` list. */
function errorFields(body: string): Record<string, unknown> {
  const parsed = parseJsonOrText(body);
  if (!isRecord(parsed)) return { detail: parsed };
  const first: unknown = Array.isArray(parsed.errors) ? parsed.errors[0] : undefined;
  return isRecord(first) ? first : parsed;
}

/** A short, PIN-free summary of an error body a vendor sent (JSON or text); undefined when it says nothing. */
export function summarizeVendorError(body: string): VendorErrorSummary | undefined {
  const fields = errorFields(body);
  const summary: VendorErrorSummary = {};
  const code = scrub(fields.code ?? fields.error_code ?? fields.errorCode);
  const title = scrub(fields.title ?? fields.error);
  const detail = scrub(fields.detail ?? fields.message ?? fields.errorMessage);
  if (code) summary.code = code;
  if (title) summary.title = title;
  if (detail) summary.detail = detail;
  return Object.keys(summary).length > 0 ? summary : undefined;
}
