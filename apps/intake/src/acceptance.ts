import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthenticatedPrincipal, AuthenticatedRequest } from '@pinflow/auth';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import type { Response } from 'express';
import { idempotencyKeyHeader } from './api-schemas';

const validIdempotencyKey = new ZodValidationPipe(idempotencyKeyHeader, 'Idempotency-Key header');

/** Who is asking, with which Idempotency-Key, and where the 202 goes: what every write endpoint needs. */
export interface Acceptance {
  principal: AuthenticatedPrincipal;
  idempotencyKey: string;
  response: Response;
}

/** The {@link Acceptance} of a request on a handler protected by `@RequireScopes`. */
export const Accepting = createParamDecorator((_data: unknown, context: ExecutionContext): Acceptance => {
  const http = context.switchToHttp();
  const request = http.getRequest<AuthenticatedRequest>();
  // Reading a principal nothing authenticated is a wiring mistake, not an anonymous caller.
  if (!request.principal) throw new Error('@Accepting() needs @RequireScopes(...) on the handler or its controller');
  const idempotencyKey = validIdempotencyKey.transform(request.header('idempotency-key'));
  // Without a key a retry after a lost answer would change the PIN (or block the card) twice.
  if (idempotencyKey === undefined) {
    throw new ProblemException(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key required', 'Send an Idempotency-Key header (a new unique value per request, the same on its retries).');
  }
  return {
    principal: request.principal,
    idempotencyKey,
    response: http.getResponse<Response>(),
  };
});
