import { HttpException, Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { AuthenticatedRequest } from './bearer-auth.guard';

export const DEFAULT_RATE_LIMIT = 100;
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 1000;

/** The RFC 9457 body of a refusal for making too many requests. */
export interface RateLimitProblem {
  type: 'https://pinflow.dev/problems/rate-limited';
  title: 'Too many requests';
  status: 429;
  detail: string;
  code: 'RATE_LIMITED';
}

/**
 * Counts each authenticated caller's requests (one budget per caller and service, whatever the
 * route) and refuses those over AUTH_RATE_LIMIT per window with 429 and Retry-After. Keyed by the
 * token's subject and tenant, not the client address: many callers share a gateway's address, and one
 * caller may come from many. Runs after {@link BearerAuthGuard}, which {@link RequireScopes} puts first.
 */
@Injectable()
export class CallerRateLimitGuard extends ThrottlerGuard {
  protected override async getTracker(request: AuthenticatedRequest): Promise<string> {
    if (!request.principal) throw new Error('CallerRateLimitGuard needs the principal BearerAuthGuard sets');
    return JSON.stringify([request.principal.subject, request.principal.tenant ?? null]);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, limit: ThrottlerLimitDetail): Promise<void> {
    const problem: RateLimitProblem = {
      type: 'https://pinflow.dev/problems/rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `More than ${limit.limit} requests in ${limit.ttl} ms from this caller. Retry after the seconds in Retry-After, with the same Idempotency-Key.`,
      code: 'RATE_LIMITED',
    };
    throw new HttpException(problem, 429);
  }
}
