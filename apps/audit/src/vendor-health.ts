import { EVENT_TYPES, VENDORS } from '@pinflow/contracts';
import type { OutcomeCount } from './event-store';

/** How far back the console's vendor health looks: long enough to span a few alert evaluations. */
export const VENDOR_HEALTH_WINDOW_MINUTES = 15;

/** Failures that say the vendor (or the way to it) is unwell; a card the vendor does not know, or a PIN it refuses, do not. */
const VENDOR_FAULTS = new Set(['VENDOR_UNAVAILABLE', 'VENDOR_UNAUTHORIZED', 'OUTCOME_UNKNOWN']);

/** At or above this share of requests ending in a vendor fault, a vendor is `failing`; above 0, `degraded`. */
const FAILING_SHARE = 0.5;

export type VendorVerdict = 'healthy' | 'degraded' | 'failing' | 'idle';

export interface VendorHealth {
  vendor: string;
  verdict: VendorVerdict;
  succeeded: number;
  failed: number;
  /** Of `failed`, those that were the vendor's fault (unreachable, refusing pinflow's credentials, outcome unknown). */
  vendorFaults: number;
  /** Failures by reason, most frequent first. */
  failureReasons: { reason: string; count: number }[];
  lastOutcomeAt: string | null;
}

/** Each vendor's outcomes in the window, judged by the share of requests that ended in a vendor fault. */
export function vendorHealth(counts: readonly OutcomeCount[]): VendorHealth[] {
  return VENDORS.map((vendor) => {
    const mine = counts.filter((count) => count.vendor === vendor);
    const failures = mine.filter((count) => count.type === EVENT_TYPES.failed);
    const failed = failures.reduce((sum, count) => sum + count.count, 0);
    const succeeded = mine.reduce((sum, count) => sum + count.count, 0) - failed;
    const vendorFaults = failures.filter((count) => VENDOR_FAULTS.has(count.reason ?? '')).reduce((sum, count) => sum + count.count, 0);
    const total = succeeded + failed;
    const verdict: VendorVerdict = total === 0 ? 'idle' : vendorFaults / total >= FAILING_SHARE ? 'failing' : vendorFaults > 0 ? 'degraded' : 'healthy';
    const failureReasons = failures.map((count) => ({ reason: count.reason ?? 'unknown', count: count.count })).sort((a, b) => b.count - a.count);
    const lastOutcomeAt = mine.map((count) => count.lastAt).sort().at(-1) ?? null;
    return { vendor, verdict, succeeded, failed, vendorFaults, failureReasons, lastOutcomeAt };
  });
}
