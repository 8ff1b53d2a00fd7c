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

/** A problem document whose `type` is derived from its `code`. */
export function problem(status: number, code: string, title: string, detail?: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-'), title, status, code, ...(detail ? { detail } : {}), ...extensions };
}

export class ProblemException extends HttpException {
  constructor(status: number, code: string, title: string, detail?: string, extensions: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(problem(status, code, title, detail, extensions), status, options);
  }

  /** The problem document this exception answers with. */
  get problem(): Problem {
    return this.getResponse() as Problem;
  }
}

/**
 * Why body-parser refused a body (its documented error `type`s), as the answer a client can act on.
 * They are raised before any route runs, as http-errors rather than Nest exceptions.
 */
const BODY_REFUSALS: Record<string, Problem> = {
  'entity.too.large': problem(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', 'The request body is larger than this endpoint accepts.'),
  'parameters.too.many': problem(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', 'The request body is larger than this endpoint accepts.'),
  'charset.unsupported': problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be JSON encoded in UTF-8.'),
  'encoding.unsupported': problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be sent uncompressed, without Content-Encoding.'),
  'entity.parse.failed': problem(400, 'MALFORMED_JSON', 'Malformed JSON', 'The request body is not valid JSON.'),
};
const UNREADABLE_BODY = problem(400, 'MALFORMED_BODY', 'Malformed body', 'The request body could not be read: it was cut short or does not match its Content-Length.');

/** An error body-parser (or another http-errors user) raised for the client: a 4xx it says may be shown. */
interface ClientHttpError {
  status: number;
  expose: true;
  type?: string;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  const candidate = error as Partial<ClientHttpError> | null;
  return typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500 && candidate.expose === true;
}

/** A refused body's answer; only the `type` and status are used, since the error's message may quote the body. */
function bodyRefusal(error: ClientHttpError): Problem {
  const known = error.type === undefined ? undefined : BODY_REFUSALS[error.type];
  if (known) return known;
  if (error.status === 400) return UNREADABLE_BODY;
  const code = HttpStatus[error.status] ?? 'CLIENT_ERROR';
  return problem(error.status, code, titleOf(code));
}

function titleOf(code: string): string {
  return code.replace(/_/g, ' ').toLowerCase().replace(/^\w/, (c) => c.toUpperCase());
}

export const RETRY_AFTER_SECONDS = 1;
export const UNAVAILABLE_PROBLEM = problem(
  503,
  'TEMPORARILY_UNAVAILABLE',
  'Temporarily unavailable',
  'A service this request needs is unavailable or overloaded; nothing was recorded. Retry it, with the same Idempotency-Key.',
);

/**
 * The 503 (with Retry-After) for a request a service sheds or cannot serve for now, answered without
 * logging a fault: the caller retries it with the same Idempotency-Key.
 */
export class TemporarilyUnavailableException extends ProblemException {
  /** `cause`: the fault, when one is known (a consumer waits out an infrastructure fault rather than refusing). */
  constructor(options?: ErrorOptions) {
    super(UNAVAILABLE_PROBLEM.status, UNAVAILABLE_PROBLEM.code, UNAVAILABLE_PROBLEM.title, UNAVAILABLE_PROBLEM.detail, {}, options);
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
    // Deliberate HTTP errors (a 503 from a readiness check, say) and refused bodies are answers, not faults.
    if (problem.status >= 500 && !(exception instanceof HttpException)) this.logger.error({ err: exception }, 'request failed');
    if (problem.code === UNAVAILABLE_PROBLEM.code) response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    response.status(problem.status).type('application/problem+json').json(problem);
  }

  private toProblem(exception: unknown): Problem {
    if (!(exception instanceof HttpException)) {
      if (isClientHttpError(exception)) return bodyRefusal(exception);
      if (this.isUnavailable(exception)) return UNAVAILABLE_PROBLEM;
      return { type: PROBLEM_BASE + 'internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' };
    }
    const status = exception.getStatus();
    const body = exception.getResponse();
    if (isProblem(body)) return { ...body, code: body.code ?? 'ERROR' };
    const code = HttpStatus[status] ?? 'ERROR';
    // Framework errors get no detail: a JSON parser's message quotes the body it choked on, and a
    // body may hold a PIN.
    if (status === 400 && isBodyParseError(exception)) return BODY_REFUSALS['entity.parse.failed'];
    return problem(status, code, titleOf(code));
  }
}
