import type { VendorCallResult } from '@pinflow/vendor-http';
import { backoffMs, isRetryable, isTransient, MAX_BACKOFF_MS, mayHaveApplied } from './retry-policy';

const answered = (status: number): VendorCallResult => ({ kind: 'answered', status, body: '' });

describe('isTransient: the vendor looks unavailable', () => {
  it.each([500, 502, 503, 504, 429])('when it answers %i', (status) => {
    expect(isTransient(answered(status))).toBe(true);
  });

  it.each(['timeout', 'connection', 'malformed_token_response'] as const)('when there was no usable answer (%s)', (cause) => {
    expect(isTransient({ kind: 'unreachable', cause })).toBe(true);
  });

  it.each([200, 201, 400, 401, 403, 404, 409, 422, 302])('not when it answers %i', (status) => {
    expect(isTransient(answered(status))).toBe(false);
  });

  it('not when the token endpoint refuses our credentials', () => {
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

describe('which failed calls are tried again', () => {
  it.each([
    ['a 5xx', answered(503)],
    ['a 429', answered(429)],
    ['a refused connection', { kind: 'unreachable', cause: 'connection' } as VendorCallResult],
    ['a token endpoint that did not answer', { kind: 'unreachable', cause: 'token_unreachable' } as VendorCallResult],
    ['a token endpoint that answered nonsense', { kind: 'unreachable', cause: 'malformed_token_response' } as VendorCallResult],
  ])('tries %s again: the vendor surely did not apply it', (_what, result) => {
    expect(mayHaveApplied(result)).toBe(false);
    expect(isRetryable(result)).toBe(true);
  });

  it.each([
    ['timed out', { kind: 'unreachable', cause: 'timeout' } as VendorCallResult],
    ['lost its connection after it was made', { kind: 'unreachable', cause: 'reset' } as VendorCallResult],
    ['a gateway gave up on (504)', answered(504)],
  ])('never repeats a call that %s: the vendor may have applied it', (_what, result) => {
    expect(mayHaveApplied(result)).toBe(true);
    expect(isRetryable(result)).toBe(false);
  });

  it.each([200, 400, 404, 409])('does not try a %i again', (status) => {
    expect(isRetryable(answered(status))).toBe(false);
  });
});
