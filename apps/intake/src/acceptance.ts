import { createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedPrincipal, AuthenticatedRequest } from '@pinflow/auth';
import { ProblemException, TemporarilyUnavailableException, ZodValidationPipe } from '@pinflow/http';
import type { Response } from 'express';
import { AcceptedResponse, idempotencyKeyHeader } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { RequestsService, Submission } from './requests.service';

const validIdempotencyKey = new ZodValidationPipe(idempotencyKeyHeader, 'Idempotency-Key header');

/** Who is asking, with which Idempotency-Key, and where the 202 goes: what every write endpoint needs. */
export interface Acceptance {
  principal: AuthenticatedPrincipal;
  /** Required at pinflow's own API; D1's PIN push may come without the correlation id it dedupes on. */
  idempotencyKey?: string;
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

/**
 * The HTTP door over {@link RequestsService}: answers 202 with the status URL in Location, and says
 * when it replays an earlier answer (IETF idempotency-key draft). Beyond INTAKE_MAX_PENDING_ACCEPTANCES
 * requests in progress, more are refused at once (503, Retry-After) rather than queued into a stall.
 */
@Injectable()
export class HttpDoor {
  private pending = 0;

  constructor(
    private readonly requests: RequestsService,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  async accept(acceptance: Acceptance, submission: Submission): Promise<AcceptedResponse> {
    if (this.pending >= this.config.INTAKE_MAX_PENDING_ACCEPTANCES) throw new TemporarilyUnavailableException();
    this.pending += 1;
    try {
      const { response, replayed } = await this.requests.submit(acceptance, submission);
      acceptance.response.location(response.statusUrl);
      if (replayed) acceptance.response.setHeader('Idempotent-Replayed', 'true');
      return response;
    } finally {
      this.pending -= 1;
    }
  }
}
