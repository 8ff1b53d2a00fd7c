import {
  applyDecorators,
  ArgumentsHost,
  CanActivate,
  Catch,
  ExceptionFilter,
  ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  NestMiddleware,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ProblemException } from '@pinflow/http';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallLog } from './call-log';
import { FaultInjector } from './faults';
import { SANDBOX_KIT_OPTIONS, type SandboxKitOptions } from './options';
import { TokenIssuer } from './tokens';
import { TokenError, tokenErrorBody, VendorError, VendorErrorInfo } from './vendor-error';

// The vendor's side of HTTP: its error bodies, its correlation ids, its bearer tokens, and the drills
// that make it slow or unreliable on demand. pinflow's problem+json is for the /sandbox hooks only.

/** The sandbox's own paths; every other path is the vendor's. */
export function isVendorPath(path: string): boolean {
  return !/^\/(sandbox|health)(\/|$)/.test(path);
}

function pathOf(request: Request): string {
  return request.originalUrl.split('?')[0];
}

const correlationIds = new WeakMap<Request, string>();
const CID_PATTERN = /^[\w.:-]{1,128}$/;

/**
 * The request's correlation id: the value of the vendor's correlation header when it has one and the
 * value is sane, or one made up for it; the same value for the whole request.
 */
export function correlationIdOf(request: Request, header?: string): string {
  let cid = correlationIds.get(request);
  if (cid === undefined) {
    const given = header === undefined ? undefined : request.headers[header.toLowerCase()];
    cid = typeof given === 'string' && CID_PATTERN.test(given) ? given : randomUUID();
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
    if (token === undefined || !this.tokens.isValid(token)) throw new VendorError(401, 'UNAUTHORIZED', 'Unauthorized');
    return true;
  }
}

/** Vendor endpoints answer errors in the vendor's format, never echoing input. */
@Catch()
export class VendorErrorFilter implements ExceptionFilter {
  private readonly logger: Logger;

  constructor(@Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions) {
    this.logger = new Logger(options.service);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = this.errorFor(exception);
    const { dialect } = this.options;
    const body = exception instanceof TokenError ? tokenErrorBody(dialect, error) : dialect.errorBody(error);
    host.switchToHttp().getResponse<Response>().status(error.status).json(body);
  }

  private errorFor(exception: unknown): VendorErrorInfo {
    if (exception instanceof VendorError) return exception;
    const known = this.options.dialect.errorFor?.(exception);
    if (known) return known;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, code: 'HTTP_ERROR', message: STATUS_CODES[status] ?? 'Error' };
    }
    this.logger.error({ err: exception }, 'vendor call failed');
    return { status: 500, code: 'INTERNAL', message: 'Internal server error' };
  }
}

/** For a controller of vendor endpoints: bearer tokens required, errors in the vendor's format. */
export function VendorEndpoints(): ClassDecorator {
  return applyDecorators(UseFilters(VendorErrorFilter), UseGuards(BearerTokenGuard));
}

/** Records every vendor call, then applies the latency and outage drills ahead of everything else. */
@Injectable()
export class VendorCallMiddleware implements NestMiddleware {
  constructor(
    private readonly calls: CallLog,
    private readonly faults: FaultInjector,
    @Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions,
  ) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    const path = pathOf(request);
    if (!isVendorPath(path)) return next();
    const cardId = this.options.cardIdInPath.exec(path)?.[1] ?? null;
    const call = this.calls.record({ at: new Date().toISOString(), method: request.method, path, cardId, cid: correlationIdOf(request, this.options.correlationHeader) });
    response.once('finish', () => {
      call.status = response.statusCode;
    });
    const latency = this.faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (this.faults.isDown()) {
      response.status(503).json(this.options.dialect.errorBody({ status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable' }));
      return;
    }
    next();
  }
}

const FORM_LIMIT_BYTES = 8 * 1024;

/** The token endpoint also takes x-www-form-urlencoded bodies, which the shared HTTP setup does not parse. */
@Injectable()
export class FormBodyMiddleware implements NestMiddleware {
  constructor(@Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (!request.is('application/x-www-form-urlencoded')) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > FORM_LIMIT_BYTES) {
        response.status(413).json(tokenErrorBody(this.options.dialect, new TokenError(413, 'invalid_request')));
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
 * ever sees it, and vendor endpoints answer in the vendor's format.
 */
export function unparsableBodyHandler(options: SandboxKitOptions): ErrorRequestHandler {
  return (error: unknown, request: Request, response: Response, next: NextFunction): void => {
    if (!isBodyParserError(error)) return next(error);
    const malformed = error.type === 'entity.parse.failed';
    const path = pathOf(request);
    if (path === options.tokenPath) {
      response.status(error.status).json(tokenErrorBody(options.dialect, new TokenError(error.status, 'invalid_request')));
    } else if (isVendorPath(path)) {
      const body = malformed
        ? options.dialect.errorBody({ status: error.status, code: 'MALFORMED_BODY', message: 'Malformed JSON body' })
        : options.dialect.errorBody({ status: error.status, code: 'UNREADABLE_BODY', message: STATUS_CODES[error.status] ?? 'Bad Request' });
      response.status(error.status).json(body);
    } else {
      const detail = malformed ? 'The request body is not valid JSON.' : STATUS_CODES[error.status];
      next(new ProblemException(error.status, malformed ? 'MALFORMED_BODY' : 'UNREADABLE_BODY', 'Unreadable request body', detail));
    }
  };
}
