import type { VendorCallResult } from '@pinflow/vendor-http';
import { backoffMs, callWithRetries, isTransient, MAX_BACKOFF_MS } from './retry-policy';

const answered = (status: number): VendorCallResult => ({ kind: 'answered', status, body: '' });

describe('isTransient', () => {
  it.each([500, 502, 503, 504, 429])('retries a %i', (status) => {
    expect(isTransient(answered(status))).toBe(true);
  });

  it.each(['timeout', 'connection', 'malformed_token_response'] as const)('retries when there was no usable answer (%s)', (cause) => {
    expect(isTransient({ kind: 'unreachable', cause })).toBe(true);
  });

  it.each([200, 201, 400, 401, 403, 404, 409, 422, 302])('does not retry a %i', (status) => {
    expect(isTransient(answered(status))).toBe(false);
  });

  it('does not retry when the token endpoint refuses our credentials', () => {
    expect(isTransient({ kind: 'token_refused', status: 401 })).toBe(false);
  });
});

describe('backoffMs', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 200 };

  it('doubles the ceiling with every failed attempt', () => {
    const almostOne = () => 0.999999;
    expect([1, 2, 3].map((attempt) => backoffMs(policy, attempt, almostOne))).toEqual([199, 399, 799]);
  });

  it('draws the whole range down to zero (full jitter)', () => {
    expect(backoffMs(policy, 3, () => 0)).toBe(0);
    expect(backoffMs(policy, 3, () => 0.5)).toBe(400);
  });

  it('never waits longer than the cap', () => {
    expect(backoffMs(policy, 30, () => 0.999999)).toBeLessThan(MAX_BACKOFF_MS);
  });

  it('stays within its bounds for random draws', () => {
    for (let draw = 0; draw < 1000; draw += 1) {
      const delay = backoffMs(policy, 2);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(400);
    }
  });
});

describe('callWithRetries', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100 };

  async function run(answers: VendorCallResult[]) {
    const waits: number[] = [];
    const attempts: number[] = [];
    const outcome = await callWithRetries(
      async (attempt) => {
        attempts.push(attempt);
        return answers[attempt - 1];
      },
      policy,
      async (ms) => waits.push(ms),
      () => 0.5,
    );
    return { ...outcome, waits, calledAttempts: attempts };
  }

  it('returns the first answer that is not transient', async () => {
    const outcome = await run([answered(500), answered(201)]);
    expect(outcome.result).toEqual(answered(201));
    expect(outcome.attempts).toBe(2);
    expect(outcome.waits).toEqual([50]);
  });

  it('does not retry a rejection', async () => {
    const outcome = await run([answered(404), answered(201)]);
    expect(outcome.result).toEqual(answered(404));
    expect(outcome.calledAttempts).toEqual([1]);
    expect(outcome.waits).toEqual([]);
  });

  it('gives up after the last attempt, returning its answer, without waiting after it', async () => {
    const outcome = await run([answered(500), answered(503), { kind: 'unreachable', cause: 'timeout' }, answered(502), answered(201)]);
    expect(outcome.result).toEqual(answered(502));
    expect(outcome.calledAttempts).toEqual([1, 2, 3, 4]);
    expect(outcome.waits).toEqual([50, 100, 200]);
  });
});
