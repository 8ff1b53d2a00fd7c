import type { ArgumentsHost } from '@nestjs/common';
import { ProblemException, TemporarilyUnavailableException } from '@pinflow/http';
import { cardNotFound } from '../card-ownership';
import { D1Error, D1ErrorFilter } from './d1-errors';

describe("D1's error model at pinflow's D1 door", () => {
  /** What the filter answers for `exception`: status, headers and body. */
  function answerTo(exception: unknown): { status: number; headers: Record<string, string>; body: unknown } {
    const answer = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
    const response = {
      header: (name: string, value: string) => (answer.headers[name] = value),
      status: (status: number) => ((answer.status = status), response),
      send: (body: unknown) => (answer.body = body),
    };
    const host = { switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ headers: { 'x-correlation-id': 'd1-correlation-1' } }) }) } as unknown as ArgumentsHost;
    new D1ErrorFilter().catch(exception, host);
    return answer;
  }

  it("answers the door's own errors as they are", () => {
    expect(answerTo(new D1Error(404, 'ISSUER_NOT_FOUND', 'The CMS serves no issuer with this id'))).toEqual({ status: 404, headers: {}, body: { errorCode: 'ISSUER_NOT_FOUND', errorMessage: 'The CMS serves no issuer with this id' } });
  });

  it('tells D1 a refused PIN as a 400 in general terms, whatever status pinflow’s own callers get', () => {
    const refusal = new ProblemException(422, 'PIN_REJECTED', 'The pin does not meet the PIN rules', 'Too easy to guess. Choose another one.', { reason: 'WEAK' });
    expect(answerTo(refusal)).toMatchObject({ status: 400, body: { errorCode: 'PIN_REJECTED', errorMessage: 'The PIN does not meet the PIN rules: Too easy to guess. Choose another one.' } });
  });

  it('tells D1 a correlation id reused for another push as a 409', () => {
    expect(answerTo(new ProblemException(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key already used for another request'))).toMatchObject({ status: 409, body: { errorCode: 'CORRELATION_ID_REUSED' } });
  });

  it("tells D1 a card of another tenant than the issuer's as a card the CMS does not have: 404, as for no card at all", () => {
    expect(answerTo(cardNotFound())).toEqual({ status: 404, headers: {}, body: { errorCode: 'CARD_NOT_FOUND', errorMessage: 'The CMS has no card with this id for this issuer' } });
  });

  it('asks D1 to retry when intake sheds load or its database is away: 503 with Retry-After', () => {
    const unavailable = { status: 503, headers: { 'Retry-After': '1' }, body: { errorCode: 'UNAVAILABLE', errorMessage: expect.any(String) } };
    expect(answerTo(new TemporarilyUnavailableException())).toEqual(unavailable);
    expect(answerTo(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual(unavailable);
  });

  it('answers any other fault with a fixed 500, never its message', () => {
    const answer = answerTo(new Error('PIN 739146 went wrong'));
    expect(answer).toMatchObject({ status: 500, body: { errorCode: 'INTERNAL' } });
    expect(JSON.stringify(answer.body)).not.toContain('739146');
  });
});
