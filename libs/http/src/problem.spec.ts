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

  /** What body-parser raises: an http-errors error whose message quotes the body. */
  const refusedBody = (status: number, type?: string) => Object.assign(new Error('unexpected token in {"pin":"739146"}'), { status, statusCode: status, expose: true, type });

  it.each([
    ['a body over the limit', refusedBody(413, 'entity.too.large'), 413, 'PAYLOAD_TOO_LARGE'],
    ['a charset other than UTF-8', refusedBody(415, 'charset.unsupported'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a Content-Encoding', refusedBody(415, 'encoding.unsupported'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body that is not JSON', refusedBody(400, 'entity.parse.failed'), 400, 'MALFORMED_JSON'],
    ['a body not matching its Content-Length', refusedBody(400, 'request.size.invalid'), 400, 'MALFORMED_BODY'],
    ['a body that could not be decoded', refusedBody(400), 400, 'MALFORMED_BODY'],
  ])('answers %s, refused by body-parser, with its 4xx and a fixed text, never 500 or the body', (_case, refusal, status, code) => {
    const written = respond(new ProblemDetailsFilter(isOverload), refusal);

    expect(written).toMatchObject({ status, type: 'application/problem+json', body: { status, code } });
    expect(JSON.stringify(written.body)).not.toContain('739146');
  });

  it('does not take an error that is not meant for the client for a refused body', () => {
    const internal = Object.assign(new Error('stream encoding should not be set'), { status: 500, expose: false, type: 'stream.encoding.set' });

    expect(respond(new ProblemDetailsFilter(isOverload), internal)).toMatchObject({ status: 500, body: { code: 'INTERNAL' } });
  });
});
