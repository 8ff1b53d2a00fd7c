import { FaultInjector, Knobs, knobsPatchSchema } from './faults';

const defaults: Knobs = {
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  timeoutHoldMs: 30_000,
  timeoutApplies: true,
  tokenTtlSeconds: 300,
  down: false,
};

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
    const faults = new FaultInjector({ ...defaults, errorRate: 0.2, timeoutRate: 0.5 }, sequence(0.1, 0.3, 0.4, 0.9, 0.6));
    expect([faults.fate(), faults.fate(), faults.fate()]).toEqual(['error', 'timeout', 'answer']);
  });

  it('spreads latency by the jitter on both sides, never below zero', () => {
    const faults = new FaultInjector({ ...defaults, latencyMs: 100, latencyJitterMs: 40 }, sequence(0, 0.5, 1));
    expect([faults.latencyMs(), faults.latencyMs(), faults.latencyMs()]).toEqual([60, 100, 140]);
    expect(new FaultInjector({ ...defaults, latencyMs: 10, latencyJitterMs: 40 }, sequence(0)).latencyMs()).toBe(0);
  });

  it('merges updates and returns to its defaults on reset', () => {
    const faults = new FaultInjector(defaults);
    expect(faults.update({ down: true, latencyMs: 5 })).toEqual({ ...defaults, down: true, latencyMs: 5 });
    expect(faults.update({ latencyMs: 7 })).toEqual({ ...defaults, down: true, latencyMs: 7 });
    faults.reset();
    expect(faults.knobs).toEqual(defaults);
  });

  it('refuses knobs out of range and knobs it does not know', () => {
    expect(knobsPatchSchema.safeParse({ errorRate: 1.5 }).success).toBe(false);
    expect(knobsPatchSchema.safeParse({ latencyMs: -1 }).success).toBe(false);
    expect(knobsPatchSchema.safeParse({ errorrate: 1 }).success).toBe(false);
  });
});
