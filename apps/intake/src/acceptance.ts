import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedPrincipal, AuthenticatedRequest } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import type { Response } from 'express';
import { idempotencyKeyHeader } from './api-schemas';

const validIdempotencyKey = new ZodValidationPipe(idempotencyKeyHeader, 'Idempotency-Key header');

/** Who is asking, with which Idempotency-Key, and where the 202 goes: what every write endpoint needs. */
export interface Acceptance {
  principal: AuthenticatedPrincipal;
  idempotencyKey?: string;
  response: Response;
}

/** The {@link Acceptance} of a request on a handler protected by `@RequireScopes`. */
export const Accepting = createParamDecorator((_data: unknown, context: ExecutionContext): Acceptance => {
  const http = context.switchToHttp();
  const request = http.getRequest<AuthenticatedRequest>();
  // Reading a principal nothing authenticated is a wiring mistake, not an anonymous caller.
  if (!request.principal) throw new Error('@Accepting() needs @RequireScopes(...) on the handler or its controller');
  return {
    principal: request.principal,
    idempotencyKey: validIdempotencyKey.transform(request.header('idempotency-key')),
    response: http.getResponse<Response>(),
  };
});
