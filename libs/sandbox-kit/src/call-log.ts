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

/** How many times each operation was applied, every operation listed (0 included). */
export type AppliedCounts<Operation extends string = string> = Record<Operation, number>;

/**
 * Keeps memory bounded through long benchmarks: the oldest calls, and the applied counts of the keys
 * counted first (one per PIN change where the key is a correlation id), are dropped, a tenth at a time.
 */
export const MAX_RECORDED_CALLS = 100_000;

/**
 * The sandbox's own account of what it was asked and what it actually did, so failure drills can
 * tell a retried call from a change applied twice. Applied operations are counted per key: whatever
 * identifies one intended change at the vendor (a correlation id, a card...), as each sandbox chooses.
 */
export class CallLog<Operation extends string = string> {
  private calls: VendorCall[] = [];
  private readonly applied = new Map<string, AppliedCounts<Operation>>();
  /** Copied for each new key: one per PIN change where the key is a correlation id. */
  private readonly noneApplied: AppliedCounts<Operation>;

  constructor(private readonly operations: readonly Operation[]) {
    this.noneApplied = Object.fromEntries(operations.map((name) => [name, 0])) as AppliedCounts<Operation>;
  }

  record(call: Omit<VendorCall, 'status'>): VendorCall {
    const recorded: VendorCall = { ...call, status: null };
    this.calls.push(recorded);
    if (this.calls.length > MAX_RECORDED_CALLS) this.calls = this.calls.slice(MAX_RECORDED_CALLS / 10);
    return recorded;
  }

  countApplied(key: string, operation: Operation): void {
    if (!this.operations.includes(operation)) throw new Error(`unknown operation ${operation}`);
    let counts = this.applied.get(key);
    if (counts === undefined) {
      counts = { ...this.noneApplied };
      this.applied.set(key, counts);
      if (this.applied.size > MAX_RECORDED_CALLS) this.forgetOldestKeys();
    }
    counts[operation] += 1;
  }

  allCalls(): VendorCall[] {
    return this.calls.map((call) => ({ ...call }));
  }

  appliedByKey(): Record<string, AppliedCounts<Operation>> {
    return Object.fromEntries([...this.applied].map(([key, counts]) => [key, { ...counts }]));
  }

  /** A Map iterates in insertion order: the first keys are the ones counted first. */
  private forgetOldestKeys(): void {
    let dropped = 0;
    for (const key of this.applied.keys()) {
      if (dropped === MAX_RECORDED_CALLS / 10) break;
      this.applied.delete(key);
      dropped += 1;
    }
  }

  clear(): void {
    this.calls = [];
    this.applied.clear();
  }
}
