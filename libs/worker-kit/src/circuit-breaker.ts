import { setTimeout as sleep } from 'node:timers/promises';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface BreakerPolicy {
  /** Consecutive failed calls (5xx, 429, no answer) that open the circuit. */
  threshold: number;
  /** How long an open circuit makes no call before one call probes the vendor. */
  cooldownMs: number;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = { threshold: 5, cooldownMs: 10_000 };

/** Leave for one call; the probe of a half-open circuit decides whether it closes. */
export interface CallPermit {
  readonly probe: boolean;
}

/** How often a caller waiting for an open circuit heartbeats, at least. */
const WAIT_TICK_MS = 1_000;

interface Wakeup {
  promise: Promise<void>;
  wake: () => void;
}

function wakeup(): Wakeup {
  let wake!: () => void;
  const promise = new Promise<void>((resolve) => (wake = resolve));
  return { promise, wake };
}

/**
 * One vendor's circuit. Consecutive failed calls up to the threshold open it; while it is open no
 * call is made, and callers wait for a permit rather than fail: a command held back by a vendor
 * outage is late, never lost. After the cool-down one call probes the vendor (half-open): its success
 * closes the circuit and lets every waiting caller go, its failure opens it for another cool-down.
 *
 * Hand-written rather than opossum or cockatiel: opossum 10 needs Node 22 and counts rejected promises
 * in rolling windows, cockatiel 4 is ESM-only on Node 22; both fail fast while open, and waiting is
 * what pinflow's consumers need. The state machine below is all there is to it.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private changed = wakeup();

  constructor(
    private readonly policy: BreakerPolicy,
    private readonly onChange: (state: CircuitState, consecutiveFailures: number) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** A permit when a call may go now: always while closed, to one probe at a time once the cool-down is over. */
  tryAcquire(): CallPermit | undefined {
    if (this.current === 'open' && this.now() - this.openedAt >= this.policy.cooldownMs) this.moveTo('half-open');
    if (this.current === 'closed') return { probe: false };
    if (this.current === 'half-open' && !this.probing) {
      this.probing = true;
      return { probe: true };
    }
    return undefined;
  }

  /**
   * Waits (calling `heartbeat` at least every second, and before anything else) until a call may go.
   * It throws only what `heartbeat` throws.
   */
  async permit(heartbeat: () => Promise<void>): Promise<CallPermit> {
    for (;;) {
      await heartbeat();
      const permit = this.tryAcquire();
      if (permit) return permit;
      const untilProbe = this.current === 'open' ? this.openedAt + this.policy.cooldownMs - this.now() : WAIT_TICK_MS;
      await Promise.race([this.changed.promise, sleep(Math.max(0, Math.min(untilProbe, WAIT_TICK_MS)), undefined, { ref: false })]);
    }
  }

  /**
   * How the permitted call went: `failed` when the vendor looked down (5xx, 429, no answer), undefined
   * when no call was made after all. A call that started before the circuit opened does not decide
   * anything once it is open: the probe does.
   */
  record(permit: CallPermit, failed: boolean | undefined): void {
    if (permit.probe) {
      this.probing = false;
      if (failed === undefined) return this.changed.wake();
      return failed ? this.open() : this.moveTo('closed');
    }
    if (this.current !== 'closed' || failed === undefined) return;
    this.failures = failed ? this.failures + 1 : 0;
    if (this.failures >= this.policy.threshold) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.moveTo('open');
  }

  private moveTo(state: CircuitState): void {
    if (state === 'closed') this.failures = 0;
    if (state !== this.current) {
      this.current = state;
      this.onChange(state, this.failures);
    }
    const { wake } = this.changed;
    this.changed = wakeup();
    wake();
  }
}
