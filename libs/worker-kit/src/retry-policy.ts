import { setTimeout as sleep } from 'node:timers/promises';
import type { VendorCallResult } from '@pinflow/vendor-http';

export interface RetryPolicy {
  /** Calls in all, the first included. */
  maxAttempts: number;
  /** Ceiling of the first backoff; each retry doubles it. */
  baseDelayMs: number;
}

/**
 * No single wait grows past this, so a command with several retries still finishes well inside the
 * consumer's session timeout (a blocked partition must not look like a dead consumer).
 */
export const MAX_BACKOFF_MS = 5_000;

/** Worth another try: the vendor was unavailable or asked us to slow down. A 4xx says the request itself is wrong. */
export function isTransient(result: VendorCallResult): boolean {
  if (result.kind === 'unreachable') return true;
  if (result.kind === 'token_refused') return false;
  return result.status === 429 || result.status >= 500;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.floor(random() * ceiling);
}

export interface RetriedCall {
  result: VendorCallResult;
  attempts: number;
}

/**
 * Calls until the answer is not transient or the attempts run out. Hand-written because it is this
 * small, and the transient/final split depends on our own result type rather than on thrown errors.
 */
export async function callWithRetries(
  call: (attempt: number) => Promise<VendorCallResult>,
  policy: RetryPolicy,
  wait: (ms: number) => Promise<unknown> = sleep,
  random: () => number = Math.random,
): Promise<RetriedCall> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await call(attempt);
    if (!isTransient(result) || attempt >= policy.maxAttempts) return { result, attempts: attempt };
    await wait(backoffMs(policy, attempt, random));
  }
}
