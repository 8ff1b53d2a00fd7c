import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';

/** RFC 9457 problem details, plus a stable machine-readable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  [extension: string]: unknown;
}

const PROBLEM_BASE = 'https://pinflow.dev/problems/';

export class ProblemException extends HttpException {
  constructor(status: number, code: string, title: string, detail?: string, extensions: Record<string, unknown> = {}) {
    const problem: Problem = { type: PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-'), title, status, code, ...(detail ? { detail } : {}), ...extensions };
    super(problem, status);
  }
}

const RETRY_AFTER_SECONDS = 1;
const UNAVAILABLE: Problem = {
  type: PROBLEM_BASE + 'temporarily-unavailable',
  title: 'Temporarily unavailable',
  status: 503,
  code: 'TEMPORARILY_UNAVAILABLE',
  detail: 'A service this request needs is unavailable or overloaded; nothing was recorded. Retry it, with the same Idempotency-Key.',
};

/**
 * The 503 (with Retry-After) for a request a service sheds or cannot serve for now, answered without
 * logging a fault: the caller retries it with the same Idempotency-Key.
 */
export class TemporarilyUnavailableException extends ProblemException {
  constructor() {
    super(UNAVAILABLE.status, UNAVAILABLE.code, UNAVAILABLE.title, UNAVAILABLE.detail);
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && 'type' in body && 'title' in body && 'status' in body;
}

function isBodyParseError(exception: HttpException): boolean {
  const cause = exception.cause as { type?: string } | undefined;
  return cause?.type === 'entity.parse.failed' || exception.message.includes('JSON');
}

/**
 * Every error leaves as application/problem+json. Unexpected errors get a generic body: their
 * messages may quote input, and input may hold a PIN.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  /** `isUnavailable` tells a dependency's outage or overload (the database, the broker) from a fault: a 503 to retry, not a 500. */
  constructor(private readonly isUnavailable: (error: unknown) => boolean = () => false) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception);
    // Deliberate HTTP errors (a 503 from a readiness check, say) are answers, not faults.
    if (!(exception instanceof HttpException)) this.logger.error({ err: exception }, 'request failed');
    if (problem.code === UNAVAILABLE.code) response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    response.status(problem.status).type('application/problem+json').json(problem);
  }

  private toProblem(exception: unknown): Problem {
    if (!(exception instanceof HttpException)) {
      if (this.isUnavailable(exception)) return UNAVAILABLE;
      return { type: PROBLEM_BASE + 'internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' };
    }
    const status = exception.getStatus();
    const body = exception.getResponse();
    if (isProblem(body)) return { ...body, code: body.code ?? 'ERROR' };
    const code = HttpStatus[status] ?? 'ERROR';
    const title = code.replace(/_/g, ' ').toLowerCase().replace(/^\w/, (c) => c.toUpperCase());
    // Framework errors get no detail: a JSON parser's message quotes the body it choked on, and a
    // body may hold a PIN.
    if (status === 400 && isBodyParseError(exception)) {
      return { type: PROBLEM_BASE + 'malformed-json', title: 'Malformed JSON', status, code: 'MALFORMED_JSON', detail: 'The request body is not valid JSON.' };
    }
    return { type: PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-'), title, status, code };
  }
}
