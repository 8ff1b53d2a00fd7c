import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';

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

const UNREADABLE_BODY = problem(400, 'MALFORMED_BODY', 'Malformed body', 'The request body could not be read: the connection closed before it was complete.');

/**
 * Node's error for a request whose caller hung up while its body was read: a refusal nobody receives,
 * not a fault. Only that one: a dependency's connection reset (the database's) is ECONNRESET too, and
 * is a 503 to retry.
 */
function isAbortedRequest(error: unknown): boolean {
  const candidate = error as Partial<NodeJS.ErrnoException> | null;
  return candidate?.code === 'ECONNRESET' && candidate.message === 'aborted';
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
    const problem = this.toProblem(exception);
    // Deliberate HTTP errors (a 503 from a readiness check, say) and refused bodies are answers, not faults.
    if (problem.status >= 500 && !(exception instanceof HttpException)) this.logger.error({ err: exception }, 'request failed');
    const headers: Record<string, string> = { 'Content-Type': 'application/problem+json; charset=utf-8' };
    if (problem.code === UNAVAILABLE_PROBLEM.code) headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
    const response = host.switchToHttp().getResponse<FastifyReply | ServerResponse>();
    // A route's error comes with Fastify's reply; a Nest middleware's with Node's response.
    if ('raw' in response) response.status(problem.status).headers(headers).send(JSON.stringify(problem));
    else response.writeHead(problem.status, headers).end(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): Problem {
    if (!(exception instanceof HttpException)) {
      if (isAbortedRequest(exception)) return UNREADABLE_BODY;
      if (this.isUnavailable(exception)) return UNAVAILABLE_PROBLEM;
      return { type: PROBLEM_BASE + 'internal', title: 'Internal Server Error', status: 500, code: 'INTERNAL' };
    }
    const status = exception.getStatus();
    const body = exception.getResponse();
    if (isProblem(body)) return { ...body, code: body.code ?? 'ERROR' };
    const code = HttpStatus[status] ?? 'ERROR';
    // Framework errors (Fastify's refusal of a body too large or of an unknown media type, say) get no
    // detail: their messages may quote the request, and a request may hold a PIN.
    return problem(status, code, titleOf(code));
  }
}
