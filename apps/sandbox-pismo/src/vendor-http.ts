import { ArgumentsHost, CanActivate, Catch, ExecutionContext, ExceptionFilter, HttpException, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { ProblemException } from '@pinflow/http';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { CallLog, cardIdInPath } from './call-log';
import { CardRejected } from './card';
import { FaultInjector } from './faults';
import { TokenIssuer } from './tokens';

// Pismo's side of HTTP: its error bodies, its correlation ids, its bearer tokens, and the drills
// that make it slow or unreliable on demand. pinflow's problem+json is for the /sandbox hooks only.

export const TOKEN_PATH = '/passport/v1/oauth2/token';
const VENDOR_PREFIXES = ['/passport/', '/pcicards/', '/wallet/'];

/** An answer in Pismo's own format. */
export class VendorError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, string>,
  ) {
    super(`Pismo answers ${status}`);
    this.name = 'VendorError';
  }
}

const REJECTION_STATUS: Record<CardRejected['reason'], number> = { TERMINAL_STATUS: 403, TRIES_NOT_RESETTABLE: 406 };

/** Vendor endpoints answer errors as Pismo does: `{"message": ...}`, never echoing input. */
@Catch()
export class VendorErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('PismoSimulator');

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body } = this.answerFor(exception);
    host.switchToHttp().getResponse<Response>().status(status).json(body);
  }

  private answerFor(exception: unknown): { status: number; body: Record<string, string> } {
    if (exception instanceof VendorError) return { status: exception.status, body: exception.body };
    if (exception instanceof CardRejected) return { status: REJECTION_STATUS[exception.reason], body: { message: exception.message } };
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, body: { message: STATUS_CODES[status] ?? 'Error' } };
    }
    this.logger.error({ err: exception }, 'vendor call failed');
    return { status: 500, body: { message: 'Internal server error' } };
  }
}

/** Validates a vendor request body; the 400 names the broken rules, never the values. */
export function parseVendorBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new VendorError(400, { message: [...new Set(result.error.issues.map((issue) => issue.message))].join('; ') });
}

const correlationIds = new WeakMap<Request, string>();
const CID_PATTERN = /^[\w.:-]{1,128}$/;

/** The request's `x-cid`, or one made up for it; the same value for the whole request. */
export function cidOf(request: Request): string {
  let cid = correlationIds.get(request);
  if (cid === undefined) {
    const header = request.headers['x-cid'];
    cid = typeof header === 'string' && CID_PATTERN.test(header) ? header : randomUUID();
    correlationIds.set(request, cid);
  }
  return cid;
}

@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(private readonly tokens: TokenIssuer) {}

  canActivate(context: ExecutionContext): boolean {
    const authorization = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (token === undefined || !this.tokens.isValid(token)) throw new VendorError(401, { message: 'Unauthorized' });
    return true;
  }
}

/** Records every vendor call, then applies the latency and outage drills ahead of everything else. */
@Injectable()
export class VendorCallMiddleware implements NestMiddleware {
  constructor(
    private readonly calls: CallLog,
    private readonly faults: FaultInjector,
  ) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    const path = request.originalUrl.split('?')[0];
    const call = this.calls.record({ at: new Date().toISOString(), method: request.method, path, cardId: cardIdInPath(path), cid: cidOf(request) });
    response.once('finish', () => {
      call.status = response.statusCode;
    });
    const latency = this.faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (this.faults.knobs.down) {
      response.status(503).json({ message: 'Service Unavailable' });
      return;
    }
    next();
  }
}

const FORM_LIMIT_BYTES = 8 * 1024;

/** The token endpoint also takes x-www-form-urlencoded bodies, which the shared HTTP setup does not parse. */
@Injectable()
export class FormBodyMiddleware implements NestMiddleware {
  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (!request.is('application/x-www-form-urlencoded')) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > FORM_LIMIT_BYTES) {
        response.status(413).json({ error: 'invalid_request' });
        return;
      }
      chunks.push(chunk);
    }
    request.body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    next();
  }
}

interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const candidate = error as Partial<BodyParserError> | null;
  return typeof candidate?.type === 'string' && typeof candidate.status === 'number' && candidate.status >= 400 && candidate.status < 500;
}

/**
 * Express error handler for bodies that cannot be parsed. body-parser's JSON syntax errors quote the
 * body (so possibly a PIN), and Nest would pass that message on as the error detail; here no caller
 * ever sees it, and vendor endpoints answer in Pismo's format.
 */
export function unparsableBodyHandler(error: unknown, request: Request, response: Response, next: NextFunction): void {
  if (!isBodyParserError(error)) return next(error);
  const malformed = error.type === 'entity.parse.failed';
  const path = request.originalUrl.split('?')[0];
  if (path === TOKEN_PATH) {
    response.status(error.status).json({ error: 'invalid_request' });
  } else if (VENDOR_PREFIXES.some((prefix) => path.startsWith(prefix))) {
    response.status(error.status).json({ message: malformed ? 'Malformed JSON body' : (STATUS_CODES[error.status] ?? 'Bad Request') });
  } else {
    const detail = malformed ? 'The request body is not valid JSON.' : STATUS_CODES[error.status];
    next(new ProblemException(error.status, malformed ? 'MALFORMED_BODY' : 'UNREADABLE_BODY', 'Unreadable request body', detail));
  }
}
