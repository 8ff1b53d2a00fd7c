import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedPrincipal, AuthenticatedRequest } from '@pinflow/auth';
import { ProblemException, ZodValidationPipe, type AdmissionLimitOptions } from '@pinflow/http';
import type { FastifyReply } from 'fastify';
import { AcceptedResponse, idempotencyKeyHeader } from './api-schemas';
import type { IntakeConfig } from './config';
import { RequestsService, Submission } from './requests.service';

const validIdempotencyKey = new ZodValidationPipe(idempotencyKeyHeader, 'Idempotency-Key header');

/** Who is asking, with which Idempotency-Key, and where the 202 goes: what every write endpoint needs. */
export interface Acceptance {
  principal: AuthenticatedPrincipal;
  /** Required at pinflow's own API; D1's PIN push may come without the correlation id it dedupes on. */
  idempotencyKey?: string;
  response: FastifyReply;
}

/** The {@link Acceptance} of a request on a handler protected by `@RequireScopes`. */
export const Accepting = createParamDecorator((_data: unknown, context: ExecutionContext): Acceptance => {
  const http = context.switchToHttp();
  const request = http.getRequest<AuthenticatedRequest>();
  // Reading a principal nothing authenticated is a wiring mistake, not an anonymous caller.
  if (!request.principal) throw new Error('@Accepting() needs @RequireScopes(...) on the handler or its controller');
  const idempotencyKey = validIdempotencyKey.transform(request.headers['idempotency-key']);
  // Without a key a retry after a lost answer would change the PIN (or block the card) twice.
  if (idempotencyKey === undefined) {
    throw new ProblemException(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key required', 'Send an Idempotency-Key header (a new unique value per request, the same on its retries).');
  }
  return {
    principal: request.principal,
    idempotencyKey,
    response: http.getResponse<FastifyReply>(),
  };
});

/**
 * pinflow's own write endpoints, refused at once beyond INTAKE_MAX_PENDING_ACCEPTANCES in progress, before
 * their token is verified or a secret decrypted. Thales D1's door answers in D1's error model and is not
 * limited here.
 */
export function writeAdmission(config: Pick<IntakeConfig, 'INTAKE_MAX_PENDING_ACCEPTANCES'>): AdmissionLimitOptions {
  return { maxInProgress: config.INTAKE_MAX_PENDING_ACCEPTANCES, applies: (request) => request.method === 'POST' && (request.url ?? '').startsWith('/v1/') };
}

/**
 * The HTTP door over {@link RequestsService}: answers 202 with the status URL in Location, and says
 * when it replays an earlier answer (IETF idempotency-key draft).
 */
@Injectable()
export class HttpDoor {
  constructor(private readonly requests: RequestsService) {}

  async accept(acceptance: Acceptance, submission: Submission): Promise<AcceptedResponse> {
    const { response, replayed } = await this.requests.submit(acceptance, submission);
    acceptance.response.header('Location', response.statusUrl);
    if (replayed) acceptance.response.header('Idempotent-Replayed', 'true');
    return response;
  }
}
