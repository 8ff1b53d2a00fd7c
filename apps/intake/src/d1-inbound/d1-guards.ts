import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { ThrottlerLimitDetail } from '@nestjs/throttler';
import { AuthenticatedPrincipal, AuthenticatedRequest, CallerRateLimitGuard } from '@pinflow/auth';
import { D1Door } from './d1-door';
import { D1Error } from './d1-errors';

/**
 * D1's bearer token (401 UNAUTHORIZED in D1's error model otherwise): its client becomes the request's
 * principal, `thales-d1:<client id>`, the caller its changes are recorded under and rate-limited as.
 */
@Injectable()
export class D1AuthGuard implements CanActivate {
  constructor(private readonly door: D1Door) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const client = await this.door.authenticate(request.headers.authorization);
    request.principal = { subject: `thales-d1:${client}`, clientId: client, scopes: new Set() };
    return true;
  }
}

/**
 * D1's calls count against the same per-caller budget as pinflow's own callers' (AUTH_RATE_LIMIT per
 * AUTH_RATE_LIMIT_WINDOW_MS, one budget per D1 client), and are refused over it with 429, Retry-After
 * and D1's error body.
 */
@Injectable()
export class D1RateLimitGuard extends CallerRateLimitGuard {
  protected override async throwThrottlingException(_context: ExecutionContext, limit: ThrottlerLimitDetail): Promise<void> {
    throw new D1Error(429, 'RATE_LIMITED', `More than ${limit.limit} calls in ${limit.ttl} ms from this D1 client: retry after the seconds in Retry-After, with the same x-correlation-id`);
  }
}

/** The D1 client {@link D1AuthGuard} authenticated. */
export const D1Caller = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
  const { principal } = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!principal) throw new Error('@D1Caller() needs D1AuthGuard on the handler or its controller');
  return principal;
});
