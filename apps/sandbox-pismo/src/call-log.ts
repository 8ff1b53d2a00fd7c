/** One vendor call as the sandbox saw it; never a body. */
export interface VendorCall {
  at: string;
  method: string;
  path: string;
  cardId: string | null;
  cid: string;
  /** Null while the call is in flight, and for good if the caller hung up before the answer. */
  status: number | null;
}

export type AppliedOperation = 'pinChanges' | 'triesIncreases' | 'triesResets';
export type AppliedCounts = Record<AppliedOperation, number>;

/** Keeps memory bounded through long benchmarks: the oldest calls are dropped, a tenth at a time. */
export const MAX_RECORDED_CALLS = 100_000;

/**
 * The sandbox's own account of what it was asked and what it actually did, so failure drills can
 * tell a retried call from a change applied twice.
 */
export class CallLog {
  private calls: VendorCall[] = [];
  private readonly applied = new Map<string, AppliedCounts>();

  record(call: Omit<VendorCall, 'status'>): VendorCall {
    const recorded: VendorCall = { ...call, status: null };
    this.calls.push(recorded);
    if (this.calls.length > MAX_RECORDED_CALLS) this.calls = this.calls.slice(MAX_RECORDED_CALLS / 10);
    return recorded;
  }

  countApplied(cid: string, operation: AppliedOperation): void {
    const counts = this.applied.get(cid) ?? { pinChanges: 0, triesIncreases: 0, triesResets: 0 };
    counts[operation] += 1;
    this.applied.set(cid, counts);
  }

  allCalls(): VendorCall[] {
    return this.calls.map((call) => ({ ...call }));
  }

  appliedByCid(): Record<string, AppliedCounts> {
    return Object.fromEntries([...this.applied].map(([cid, counts]) => [cid, { ...counts }]));
  }

  clear(): void {
    this.calls = [];
    this.applied.clear();
  }
}

/** The card a vendor path addresses, if any. */
export function cardIdInPath(path: string): string | null {
  return /\/cards?\/([^/?#]+)/.exec(path)?.[1] ?? null;
}
