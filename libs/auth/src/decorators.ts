import { applyDecorators, createParamDecorator, SetMetadata, UseGuards, type ExecutionContext } from '@nestjs/common';
import { BearerAuthGuard, REQUIRED_SCOPES_METADATA, type AuthenticatedRequest } from './bearer-auth.guard';
import { CallerRateLimitGuard } from './caller-rate-limit.guard';
import type { AuthenticatedPrincipal } from './jwt-verifier';

/**
 * Protects a controller or handler with a bearer token carrying all of `scopes`, and holds each
 * caller to its rate limit. On both, the token needs the controller's scopes and the handler's.
 */
export function RequireScopes(...scopes: [string, ...string[]]): ClassDecorator & MethodDecorator {
  // In this order: the rate limit counts the caller the bearer token names.
  return applyDecorators(SetMetadata(REQUIRED_SCOPES_METADATA, scopes), UseGuards(BearerAuthGuard, CallerRateLimitGuard));
}

/** Injects the {@link AuthenticatedPrincipal} that {@link BearerAuthGuard} authenticated. */
export const Principal = createParamDecorator((_: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
  const { principal } = context.switchToHttp().getRequest<AuthenticatedRequest>();
  // Reading a principal nothing authenticated is a wiring mistake, not an anonymous caller.
  if (!principal) throw new Error('@Principal() needs @RequireScopes(...) on the handler or its controller');
  return principal;
});
