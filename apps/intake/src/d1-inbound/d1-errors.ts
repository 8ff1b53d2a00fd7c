import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ProblemException } from '@pinflow/http';
import { isInfrastructureFault } from '@pinflow/kafka';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CORRELATION_ID } from './d1-http';

/**
 * D1 publishes no error schema for the card management system's side; pinflow answers D1 as its CMS
 * sandbox does (apps/sandbox-thales-d1): `{errorCode, errorMessage}`, messages naming the broken rule
 * and never a value D1 sent.
 */
export interface D1ErrorBody {
  errorCode: string;
  errorMessage: string;
}

export class D1Error extends HttpException {
  constructor(status: number, errorCode: string, errorMessage: string) {
    super({ errorCode, errorMessage } satisfies D1ErrorBody, status);
  }
}

/** A refusal at the token endpoint, in OAuth2's form (RFC 6749 5.2): `{error}`, which D1's token client reads. */
export class TokenRefusal extends HttpException {
  constructor(status: 400 | 401, error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type') {
    super({ error }, status);
  }
}

const unavailable = () => new D1Error(503, 'UNAVAILABLE', 'The card management system cannot take the PIN right now; nothing was recorded. Retry.');

/**
 * What the shared submit path's refusals mean to D1. Its problem documents speak to pinflow's own
 * callers (Idempotency-Key, /v1/pin-keys); D1 gets the rule in its own terms.
 */
const FROM_PROBLEM: Record<string, (problem: ProblemException) => D1Error> = {
  PIN_REJECTED: (problem) => new D1Error(400, 'PIN_REJECTED', `The PIN does not meet the PIN rules: ${problem.problem.detail ?? 'choose another one.'}`),
  IDEMPOTENCY_KEY_REUSED: () => new D1Error(409, 'CORRELATION_ID_REUSED', 'This x-correlation-id already pushed another PIN block type for this card: send a new one'),
  // As for an issuer it does not serve, a CMS has no card of another tenant: the same 404 as for no card at all.
  CARD_NOT_FOUND: () => new D1Error(404, 'CARD_NOT_FOUND', 'The CMS has no card with this id for this issuer'),
  TEMPORARILY_UNAVAILABLE: unavailable,
};

/**
 * Answers D1 in D1's error model: the door's own errors, the shared submit path's refusals, and faults
 * (a database outage is a 503 to retry; anything else a 500, logged as intake's global filter logs it).
 */
@Catch()
export class D1ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ThalesD1Inbound');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const error = this.d1ErrorOf(exception);
    if (error.getStatus() === 503) reply.header('Retry-After', '1');
    const body = error instanceof D1Error || error instanceof TokenRefusal ? error.getResponse() : { errorCode: 'INVALID_REQUEST', errorMessage: 'The request was refused' };
    // The code only (messages are fixed texts), and D1's correlation id when it is one, for D1's troubleshooting.
    const correlationId = http.getRequest<FastifyRequest>().headers['x-correlation-id'];
    const { errorCode, error: oauthError } = body as Partial<D1ErrorBody> & { error?: string };
    this.logger.log({ correlationId: typeof correlationId === 'string' && CORRELATION_ID.test(correlationId) ? correlationId : undefined, status: error.getStatus(), errorCode: errorCode ?? oauthError }, 'D1 call refused');
    reply.status(error.getStatus()).send(body);
  }

  private d1ErrorOf(exception: unknown): HttpException {
    if (exception instanceof ProblemException) {
      const translate = FROM_PROBLEM[exception.problem.code];
      return translate ? translate(exception) : new D1Error(exception.getStatus(), exception.problem.code, exception.problem.title);
    }
    if (exception instanceof HttpException) return exception;
    if (isInfrastructureFault(exception)) return unavailable();
    this.logger.error({ err: exception }, 'D1 call failed');
    return new D1Error(500, 'INTERNAL', 'The card management system failed; nothing may have been recorded. Retry with the same x-correlation-id.');
  }
}
