import type { ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter, ProblemException } from './problem';

/** What the filter wrote: status, headers, content type and body. */
function respond(filter: ProblemDetailsFilter, exception: unknown) {
  const written = { status: 0, headers: {} as Record<string, string>, type: '', body: undefined as unknown };
  const response = {
    status: (status: number) => ((written.status = status), response),
    setHeader: (name: string, value: string) => ((written.headers[name] = value), response),
    type: (type: string) => ((written.type = type), response),
    json: (body: unknown) => ((written.body = body), response),
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  filter.catch(exception, host);
  return written;
}

const overloaded = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' });
const isOverload = (error: unknown) => (error as { code?: string }).code === 'P2028';

describe('ProblemDetailsFilter: every error leaves as a problem body a client can act on', () => {
  it('answers 503 with Retry-After when a dependency is down or overloaded, so the caller retries with the same Idempotency-Key', () => {
    const written = respond(new ProblemDetailsFilter(isOverload), overloaded);

    expect(written).toMatchObject({ status: 503, headers: { 'Retry-After': '1' }, type: 'application/problem+json' });
    expect(written.body).toMatchObject({ status: 503, code: 'TEMPORARILY_UNAVAILABLE', title: 'Temporarily unavailable' });
    expect(JSON.stringify(written.body)).not.toContain('transaction');
  });

  it('answers 500 with a generic body for any other unexpected error, never its message (it may quote a PIN)', () => {
    const written = respond(new ProblemDetailsFilter(isOverload), new RangeError('PIN 739146 out of range'));

    expect(written).toMatchObject({ status: 500, headers: {}, body: { status: 500, code: 'INTERNAL', title: 'Internal Server Error' } });
    expect(JSON.stringify(written.body)).not.toContain('739146');
  });

  it('answers a deliberate problem as it was raised', () => {
    const written = respond(new ProblemDetailsFilter(isOverload), new ProblemException(422, 'WEAK_PIN', 'The PIN is too easy to guess'));

    expect(written).toMatchObject({ status: 422, body: { code: 'WEAK_PIN', title: 'The PIN is too easy to guess', type: 'https://pinflow.dev/problems/weak-pin' } });
  });
});
