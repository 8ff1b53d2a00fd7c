import type { VendorCallResult } from '@pinflow/vendor-http';
import type { BreakerPolicy } from './circuit-breaker';

/** How a worker calls its vendor: how often, how patiently, and when to stop calling altogether. */
export interface RetryPolicy {
  /** Calls in all, the first included. */
  maxAttempts: number;
  /** Ceiling of the first backoff; each retry doubles it. */
  baseDelayMs: number;
  /** When the vendor's circuit opens and for how long (default DEFAULT_BREAKER_POLICY). */
  breaker?: BreakerPolicy;
}

/**
 * No single wait grows past this, so a command with several retries still finishes well inside the
 * consumer's session timeout (a blocked partition must not look like a dead consumer).
 */
export const MAX_BACKOFF_MS = 5_000;

/** The vendor looks unavailable: it answered 5xx or 429, or not at all. A 4xx says the request itself is wrong. */
export function isTransient(result: VendorCallResult): boolean {
  if (result.kind === 'unreachable') return true;
  if (result.kind === 'token_refused') return false;
  return result.status === 429 || result.status >= 500;
}

/**
 * The call may have reached the vendor and been applied without us hearing of it: it timed out, was
 * reset, or a gateway gave up waiting for the vendor (504). A refused connection, a token endpoint
 * that failed and any other 5xx or 429 answer mean it was not.
 */
export function mayHaveApplied(result: VendorCallResult): boolean {
  if (result.kind === 'answered') return result.status === 504;
  return result.kind === 'unreachable' && (result.cause === 'timeout' || result.cause === 'reset');
}

/** Worth another try: the vendor was unavailable, and surely did not apply the call. */
export function isRetryable(result: VendorCallResult): boolean {
  return isTransient(result) && !mayHaveApplied(result);
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.floor(random() * ceiling);
}
