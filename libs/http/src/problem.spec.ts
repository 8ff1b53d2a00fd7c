import { HttpException, type ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter, ProblemException } from './problem';

/** What the filter wrote on a Fastify reply: status, headers, content type and body. */
function respond(filter: ProblemDetailsFilter, exception: unknown) {
  const written = { status: 0, headers: {} as Record<string, string>, type: '', body: undefined as unknown };
  const response = {
    raw: {},
    status: (status: number) => ((written.status = status), response),
    headers: (headers: Record<string, string>) => {
      const { 'Content-Type': type, ...others } = headers;
      Object.assign(written, { type, headers: others });
      return response;
    },
    send: (body: string) => ((written.body = JSON.parse(body)), response),
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

    expect(written).toMatchObject({ status: 503, headers: { 'Retry-After': '1' }, type: 'application/problem+json; charset=utf-8' });
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

  // What Nest hands on of Fastify's own refusals: an HttpException whose message quotes the request.
  it.each([
    ['a body over the limit', new HttpException('Request body is too large: {"pin":"739146"}', 413), 413, 'PAYLOAD_TOO_LARGE'],
    ['a media type no parser takes', new HttpException('Unsupported Media Type: text/plain; pin=739146', 415), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body not matching its Content-Length', new HttpException('Request body size did not match Content-Length: {"pin":"739146"}', 400), 400, 'BAD_REQUEST'],
  ])('answers %s, refused by Fastify, with its 4xx and a fixed text, never the request', (_case, refusal, status, code) => {
    const written = respond(new ProblemDetailsFilter(isOverload), refusal);

    expect(written).toMatchObject({ status, type: 'application/problem+json; charset=utf-8', body: { status, code } });
    expect(JSON.stringify(written.body)).not.toContain('739146');
  });

  it('answers a request whose caller hung up while its body was read as a refusal (400), not a fault', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });

    expect(respond(new ProblemDetailsFilter(isOverload), aborted)).toMatchObject({ status: 400, body: { code: 'MALFORMED_BODY' } });
  });

  it("answers a dependency's connection reset (the database restarting) with 503 to retry, not as a caller's hang-up", () => {
    const databaseReset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const isDatabaseDown = (error: unknown) => (error as { code?: string }).code === 'ECONNRESET';

    expect(respond(new ProblemDetailsFilter(isDatabaseDown), databaseReset)).toMatchObject({ status: 503, headers: { 'Retry-After': '1' }, body: { code: 'TEMPORARILY_UNAVAILABLE' } });
  });
});
