import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { VendorError } from './vendor-error';

const millis = z.number().int().min(0).max(600_000);
const rate = z.number().min(0).max(1);

export const knobsSchema = z.strictObject({
  latencyMs: millis,
  /** Each call waits latencyMs ± a uniform draw up to this, never less than 0. */
  latencyJitterMs: millis,
  /** Share of drilled calls answered 500 without being applied. */
  errorRate: rate,
  /** Share of drilled calls held for timeoutHoldMs and then answered 504. */
  timeoutRate: rate,
  timeoutHoldMs: millis,
  /** Whether a timed-out call was applied anyway: a real timeout leaves the caller unable to tell. */
  timeoutApplies: z.boolean(),
  tokenTtlSeconds: z.number().int().positive(),
  /** Every vendor call answered 503, before authentication. */
  down: z.boolean(),
});
export type Knobs = z.infer<typeof knobsSchema>;

/** How long a drilled timeout holds its caller unless the knobs say otherwise. */
const DEFAULT_TIMEOUT_HOLD_MS = 30_000;

/** The shared knobs at rest: no drill active, tokens living as long as the sandbox's configuration says. */
export function defaultKnobs(tokenTtlSeconds: number): Knobs {
  return { latencyMs: 0, latencyJitterMs: 0, errorRate: 0, timeoutRate: 0, timeoutHoldMs: DEFAULT_TIMEOUT_HOLD_MS, timeoutApplies: true, tokenTtlSeconds, down: false };
}

export type CallFate = 'answer' | 'error' | 'timeout';

export interface FaultInjectorOptions {
  /** A vendor's own knobs, changed and reset along with the shared ones. */
  vendorKnobs?: z.ZodObject;
  random?: () => number;
}

/**
 * The sandbox's failure drills (latency, errors, timeouts and outages on demand) and the knobs that
 * set them. `V` types the vendor's own knobs, if it has any.
 */
export class FaultInjector<V extends object = object> {
  private readonly logger = new Logger('Drills');
  private readonly random: () => number;
  private current: Knobs & V;
  /** Validates a partial update of the knobs: the shared ones and the vendor's, nothing else. */
  readonly patchSchema: z.ZodType<Partial<Knobs & V>>;

  constructor(
    private readonly defaults: Knobs & V,
    options: FaultInjectorOptions = {},
  ) {
    this.random = options.random ?? Math.random;
    const schema = options.vendorKnobs ? knobsSchema.extend(options.vendorKnobs.shape) : knobsSchema;
    schema.parse(defaults);
    this.patchSchema = schema.partial() as unknown as z.ZodType<Partial<Knobs & V>>;
    this.current = { ...defaults };
  }

  get knobs(): Knobs & V {
    return { ...this.current };
  }

  update(patch: Partial<Knobs & V>): Knobs & V {
    this.current = { ...this.current, ...patch };
    return this.knobs;
  }

  reset(): void {
    this.current = { ...this.defaults };
  }

  /** The `down` knob, read at every vendor call without copying the knobs. */
  isDown(): boolean {
    return this.current.down;
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

  /**
   * Runs a vendor operation through the error and timeout drills. A drilled error is answered without
   * applying anything; a drilled timeout applies the operation first when `timeoutApplies` is set,
   * holds the caller, then answers 504 either way.
   */
  async underDrills<T>(operation: () => Promise<T>): Promise<T> {
    const fate = this.fate();
    if (fate === 'error') throw new VendorError(500, 'INTERNAL', 'Internal server error');
    if (fate === 'answer') return operation();
    const { timeoutApplies, timeoutHoldMs } = this.current;
    if (timeoutApplies) {
      await operation().catch((error: unknown) => this.logger.debug({ reason: (error as Error).message }, 'the timed-out call was refused'));
    }
    await sleep(timeoutHoldMs);
    throw new VendorError(504, 'TIMEOUT', 'Endpoint request timed out');
  }
}
