import { z } from 'zod';
import { defaultKnobs, FaultInjector, Knobs } from './faults';
import { VendorError } from './vendor-error';

const defaults: Knobs = defaultKnobs(300);

function sequence(...values: number[]): () => number {
  return () => values.shift() ?? 0.5;
}

describe('FaultInjector', () => {
  it('answers every call normally by default', () => {
    const faults = new FaultInjector(defaults);
    for (let i = 0; i < 100; i += 1) expect(faults.fate()).toBe('answer');
    expect(faults.latencyMs()).toBe(0);
  });

  it('fails every call at errorRate 1 and times every call out at timeoutRate 1', () => {
    const faults = new FaultInjector(defaults);
    faults.update({ errorRate: 1 });
    expect(faults.fate()).toBe('error');
    faults.update({ errorRate: 0, timeoutRate: 1 });
    expect(faults.fate()).toBe('timeout');
  });

  it('draws errors first and timeouts only among the calls that escaped them', () => {
    const faults = new FaultInjector({ ...defaults, errorRate: 0.2, timeoutRate: 0.5 }, { random: sequence(0.1, 0.3, 0.4, 0.9, 0.6) });
    expect([faults.fate(), faults.fate(), faults.fate()]).toEqual(['error', 'timeout', 'answer']);
  });

  it('spreads latency by the jitter on both sides, never below zero', () => {
    const faults = new FaultInjector({ ...defaults, latencyMs: 100, latencyJitterMs: 40 }, { random: sequence(0, 0.5, 1) });
    expect([faults.latencyMs(), faults.latencyMs(), faults.latencyMs()]).toEqual([60, 100, 140]);
    expect(new FaultInjector({ ...defaults, latencyMs: 10, latencyJitterMs: 40 }, { random: sequence(0) }).latencyMs()).toBe(0);
  });

  it('merges updates and returns to its defaults on reset', () => {
    const faults = new FaultInjector(defaults);
    expect(faults.update({ down: true, latencyMs: 5 })).toEqual({ ...defaults, down: true, latencyMs: 5 });
    expect(faults.update({ latencyMs: 7 })).toEqual({ ...defaults, down: true, latencyMs: 7 });
    faults.reset();
    expect(faults.knobs).toEqual(defaults);
  });

  it('refuses knobs out of range and knobs it does not know', () => {
    const { patchSchema } = new FaultInjector(defaults);
    expect(patchSchema.safeParse({ errorRate: 1 }).success).toBe(true);
    expect(patchSchema.safeParse({ errorRate: 1.5 }).success).toBe(false);
    expect(patchSchema.safeParse({ latencyMs: -1 }).success).toBe(false);
    expect(patchSchema.safeParse({ errorrate: 1 }).success).toBe(false);
  });

  it("takes a vendor's own knobs, validated, changed and reset like the shared ones", () => {
    const vendorKnobs = z.strictObject({ padding: z.enum(['a', 'b']) });
    const faults = new FaultInjector<{ padding: 'a' | 'b' }>({ ...defaults, padding: 'a' }, { vendorKnobs });
    expect(faults.patchSchema.safeParse({ padding: 'b', latencyMs: 3 }).success).toBe(true);
    expect(faults.patchSchema.safeParse({ padding: 'c' }).success).toBe(false);
    expect(faults.update({ padding: 'b' })).toEqual({ ...defaults, padding: 'b' });
    faults.reset();
    expect(faults.knobs.padding).toBe('a');
    expect(() => new FaultInjector({ ...defaults, padding: 'c' }, { vendorKnobs })).toThrow();
  });
});

describe('FaultInjector.underDrills', () => {
  function counted() {
    const operation = { runs: 0, run: async () => { operation.runs += 1; return 'done'; } };
    return operation;
  }

  it('runs the operation and passes its result on when no drill is active', async () => {
    const operation = counted();
    await expect(new FaultInjector(defaults).underDrills(operation.run)).resolves.toBe('done');
    expect(operation.runs).toBe(1);
  });

  it('answers a drilled error with a 500 without running the operation', async () => {
    const operation = counted();
    const failure = new FaultInjector({ ...defaults, errorRate: 1 }).underDrills(operation.run);
    await expect(failure).rejects.toBeInstanceOf(VendorError);
    await expect(failure).rejects.toMatchObject({ status: 500, code: 'INTERNAL', message: 'Internal server error' });
    expect(operation.runs).toBe(0);
  });

  it('holds a drilled timeout, then answers 504, having run the operation only if timeoutApplies', async () => {
    for (const timeoutApplies of [true, false]) {
      const operation = counted();
      const faults = new FaultInjector({ ...defaults, timeoutRate: 1, timeoutHoldMs: 50, timeoutApplies });
      const started = Date.now();
      await expect(faults.underDrills(operation.run)).rejects.toMatchObject({ status: 504, code: 'TIMEOUT' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(operation.runs).toBe(timeoutApplies ? 1 : 0);
    }
  });
});
