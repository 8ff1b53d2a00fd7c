import { z } from 'zod';

const millis = z.number().int().min(0).max(600_000);
const rate = z.number().min(0).max(1);

export const knobsSchema = z.strictObject({
  latencyMs: millis,
  /** Each call waits latencyMs ± a uniform draw up to this, never less than 0. */
  latencyJitterMs: millis,
  /** Share of card calls answered 500 without being applied. */
  errorRate: rate,
  /** Share of card calls held for timeoutHoldMs and then answered 504. */
  timeoutRate: rate,
  timeoutHoldMs: millis,
  /** Whether a timed-out call was applied anyway: a real timeout leaves the caller unable to tell. */
  timeoutApplies: z.boolean(),
  tokenTtlSeconds: z.number().int().positive(),
  /** Every vendor call answered 503, before authentication. */
  down: z.boolean(),
});
export type Knobs = z.infer<typeof knobsSchema>;

export const knobsPatchSchema = knobsSchema.partial();
export type KnobsPatch = z.infer<typeof knobsPatchSchema>;

export type CallFate = 'answer' | 'error' | 'timeout';

/** The sandbox's failure drills: latency, errors, timeouts and outages on demand. */
export class FaultInjector {
  private current: Knobs;

  constructor(
    private readonly defaults: Knobs,
    private readonly random: () => number = Math.random,
  ) {
    this.current = { ...defaults };
  }

  get knobs(): Knobs {
    return { ...this.current };
  }

  update(patch: KnobsPatch): Knobs {
    this.current = { ...this.current, ...patch };
    return this.knobs;
  }

  reset(): void {
    this.current = { ...this.defaults };
  }

  latencyMs(): number {
    const { latencyMs, latencyJitterMs } = this.current;
    return Math.max(0, Math.round(latencyMs + (this.random() * 2 - 1) * latencyJitterMs));
  }

  /** Errors are drawn first; a call that escapes them may still time out. */
  fate(): CallFate {
    if (this.random() < this.current.errorRate) return 'error';
    if (this.random() < this.current.timeoutRate) return 'timeout';
    return 'answer';
  }
}
