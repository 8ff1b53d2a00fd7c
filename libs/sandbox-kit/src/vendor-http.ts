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
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { BodyRefusedException, ProblemDetailsFilter } from '@pinflow/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

const correlationIds = new WeakMap<FastifyRequest, string>();
const CID_PATTERN = /^[\w.:-]{1,128}$/;

/**
 * The request's correlation id: the value of the vendor's correlation header when it has one and the
 * value is sane, or one made up for it; the same value for the whole request.
 */
export function correlationIdOf(request: FastifyRequest, header?: string): string {
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
    const authorization = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
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
    host.switchToHttp().getResponse<FastifyReply>().status(error.status).send(body);
  }

  private errorFor(exception: unknown): VendorErrorInfo {
    if (exception instanceof VendorError) return exception;
    const known = this.options.dialect.errorFor?.(exception);
    if (known) return known;
    if (exception instanceof HttpException) return kitErrorOf(exception);
    this.logger.error({ err: exception }, 'vendor call failed');
    return { status: 500, code: 'INTERNAL', message: 'Internal server error' };
  }
}

/** A framework's refusal (a body it could not read, a route it does not have) as the kit's error, never quoting the request. */
function kitErrorOf(exception: HttpException): VendorErrorInfo {
  const status = exception.getStatus();
  if (exception instanceof BodyRefusedException && exception.problem.code === 'MALFORMED_JSON') return { status, code: 'MALFORMED_BODY', message: 'Malformed JSON body' };
  if (exception instanceof BodyRefusedException || status === 413 || status === 415) return { status, code: 'UNREADABLE_BODY', message: STATUS_CODES[status] ?? 'Bad Request' };
  return { status, code: 'HTTP_ERROR', message: STATUS_CODES[status] ?? 'Error' };
}

/**
 * Errors raised before any endpoint ran (a body that cannot be read, a path no endpoint serves) reach
 * no controller's filter: on the vendor's paths they are answered in the vendor's format all the same
 * (the token endpoint's in OAuth2's), on the sandbox's own in pinflow's problem+json.
 */
@Catch()
export class BeforeEndpointErrorFilter implements ExceptionFilter {
  private readonly problems = new ProblemDetailsFilter();
  private readonly vendorErrors: VendorErrorFilter;

  constructor(@Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions) {
    this.vendorErrors = new VendorErrorFilter(options);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const path = pathOf(host.switchToHttp().getRequest<FastifyRequest>());
    if (!isVendorPath(path)) return this.problems.catch(exception, host);
    const refusedTokenRequest = path === this.options.tokenPath && exception instanceof HttpException && exception.getStatus() < 500;
    this.vendorErrors.catch(refusedTokenRequest ? new TokenError(exception.getStatus(), 'invalid_request') : exception, host);
  }
}

/** For a controller of vendor endpoints: bearer tokens required, errors in the vendor's format. */
export function VendorEndpoints(): ClassDecorator {
  return applyDecorators(UseFilters(VendorErrorFilter), UseGuards(BearerTokenGuard));
}

/**
 * Fastify `onRequest` hook: records every vendor call, then applies the latency and outage drills
 * ahead of everything else. It leaves the sandbox's own paths alone, so that calls to vendor paths the
 * sandbox does not serve are recorded too.
 */
export function recordVendorCalls(calls: CallLog, faults: FaultInjector, options: SandboxKitOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = pathOf(request);
    if (!isVendorPath(path)) return;
    const cardId = options.cardIdInPath.exec(path)?.[1] ?? null;
    const call = calls.record({ at: new Date().toISOString(), method: request.method, path, cardId, cid: correlationIdOf(request, options.correlationHeader) });
    reply.raw.once('finish', () => {
      call.status = reply.raw.statusCode;
    });
    const latency = faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (faults.isDown()) await reply.status(503).send(options.dialect.errorBody({ status: 503, code: 'UNAVAILABLE', message: 'Service Unavailable' }));
  };
}
