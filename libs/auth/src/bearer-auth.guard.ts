import {
  ForbiddenException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JwtVerifier, KeySetUnavailableError, TokenRejectedError, type AuthenticatedPrincipal } from './jwt-verifier';

export const REQUIRED_SCOPES_METADATA = 'pinflow:auth:required-scopes';

export type AuthErrorCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'INSUFFICIENT_SCOPE';

/**
 * RFC 9457 problem body of auth failures. Built here rather than with libs/http's ProblemException so
 * that auth does not depend on it; any exception filter renders the response object as is.
 */
export interface AuthProblem {
  type: 'https://pinflow.dev/problems/unauthorized' | 'https://pinflow.dev/problems/forbidden';
  title: 'Unauthorized' | 'Forbidden';
  status: 401 | 403;
  detail: string;
  code: AuthErrorCode;
}

/**
 * The answer while the issuer's keys cannot be fetched: the same 503 problem (and so the same
 * Retry-After) libs/http gives for any other dependency that is down.
 */
const KEYS_UNAVAILABLE = {
  type: 'https://pinflow.dev/problems/temporarily-unavailable',
  title: 'Temporarily unavailable',
  status: 503,
  code: 'TEMPORARILY_UNAVAILABLE',
  detail: "The access token cannot be checked: the issuer's signing keys are unavailable. Retry it, with the same Idempotency-Key.",
} as const;

/** A request that passed {@link BearerAuthGuard}. */
export interface AuthenticatedRequest extends FastifyRequest {
  principal?: AuthenticatedPrincipal;
}

function unauthorized(code: Exclude<AuthErrorCode, 'INSUFFICIENT_SCOPE'>, detail: string, cause?: unknown) {
  const problem: AuthProblem = { type: 'https://pinflow.dev/problems/unauthorized', title: 'Unauthorized', status: 401, detail, code };
  return new UnauthorizedException(problem, { cause });
}

function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer +([^ ]+) *$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * Admits requests carrying a valid bearer access token with every scope that
 * {@link RequireScopes} asks for on the handler and its controller, and puts the token's principal
 * on `request.principal`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly logger = new Logger('BearerAuth');

  constructor(
    private readonly verifier: JwtVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    const token = bearerToken(request);
    if (token === undefined) {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw unauthorized('TOKEN_MISSING', 'A bearer access token is required in the Authorization header.');
    }

    const principal = await this.verifier.verify(token).catch((error: unknown) => {
      if (error instanceof KeySetUnavailableError) {
        this.logger.warn({ err: error.cause }, 'cannot fetch the token issuer\'s signing keys; answering 503');
        throw new ServiceUnavailableException(KEYS_UNAVAILABLE, { cause: error });
      }
      if (!(error instanceof TokenRejectedError)) throw error;
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw unauthorized(error.code, `${error.message}.`, error);
    });

    const required = this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const missing = required.filter((scope) => !principal.scopes.has(scope));
    if (missing.length > 0) {
      reply.header('WWW-Authenticate', 'Bearer error="insufficient_scope"');
      const problem: AuthProblem = {
        type: 'https://pinflow.dev/problems/forbidden',
        title: 'Forbidden',
        status: 403,
        detail: `The access token lacks the required scope(s): ${missing.join(', ')}.`,
        code: 'INSUFFICIENT_SCOPE',
      };
      throw new ForbiddenException(problem);
    }

    request.principal = principal;
    return true;
  }
}
