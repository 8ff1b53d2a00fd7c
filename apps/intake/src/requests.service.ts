import { Inject, Injectable } from '@nestjs/common';
import { buildEvent, COMMAND_SCHEMAS, commandTopic, EVENT_TYPES, PinflowCommand } from '@pinflow/contracts';
import { ProblemException, TemporarilyUnavailableException } from '@pinflow/http';
import { encodeBatches, eventBatch } from '@pinflow/kafka';
import { createHash, randomUUID } from 'node:crypto';
import type { Acceptance } from './acceptance';
import type { AcceptedResponse } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { OutboxRelay } from './outbox-relay';
import { EarlierRequest, RequestWriter } from './request-writer';

type Identity = 'schemaVersion' | 'commandId' | 'requestId' | 'caller' | 'issuedAt';

/** A command before intake gives it its identity. */
export type CommandDraft = PinflowCommand extends infer C ? (C extends PinflowCommand ? Omit<C, Identity> : never) : never;

export interface Submission {
  /** The request's identity for idempotency: never a clear secret (encrypted ones count as their opaque text). */
  fingerprintSource: Record<string, unknown>;
  /** Builds the command only once the request is known to be new: sealing a secret costs RSA operations. */
  draft: () => Promise<CommandDraft>;
}

/**
 * Accepts a request: records it (the idempotency record) together with its command and accepted
 * event in the outbox, by group commit, and answers 202; the relay publishes them. A repeat with the
 * same Idempotency-Key and body gets the first answer and publishes nothing. Beyond
 * INTAKE_MAX_PENDING_ACCEPTANCES requests in progress, more are refused at once (503, Retry-After)
 * rather than queued into a stall.
 */
@Injectable()
export class RequestsService {
  private pending = 0;

  constructor(
    private readonly writer: RequestWriter,
    private readonly relay: OutboxRelay,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** Answers 202 with the status URL in Location; a replay says so (IETF idempotency-key draft). */
  async accept(acceptance: Acceptance, submission: Submission): Promise<AcceptedResponse> {
    if (this.pending >= this.config.INTAKE_MAX_PENDING_ACCEPTANCES) throw new TemporarilyUnavailableException();
    this.pending += 1;
    try {
      const { response, replayed } = await this.submit(acceptance, submission);
      acceptance.response.location(response.statusUrl);
      if (replayed) acceptance.response.setHeader('Idempotent-Replayed', 'true');
      return response;
    } finally {
      this.pending -= 1;
    }
  }

  private async submit(acceptance: Acceptance, submission: Submission): Promise<{ response: AcceptedResponse; replayed: boolean }> {
    const fingerprint = createHash('sha256').update(JSON.stringify(submission.fingerprintSource)).digest('hex');
    const { principal, idempotencyKey } = acceptance;
    const caller = principal.subject;
    if (idempotencyKey) {
      const earlier = await this.writer.earlierRequest(caller, idempotencyKey);
      if (earlier) return { response: this.replay(earlier, fingerprint), replayed: true };
    }

    const draft = await submission.draft();
    const requestId = randomUUID();
    const commandId = randomUUID();
    const command = {
      ...draft,
      schemaVersion: 1 as const,
      commandId,
      requestId,
      caller: { subject: caller, ...(principal.clientId ? { clientId: principal.clientId } : {}) },
      issuedAt: new Date().toISOString(),
    };
    const accepted = buildEvent(EVENT_TYPES.accepted, {
      source: '/pinflow/intake',
      cardId: draft.cardId,
      data: { vendor: draft.vendor, requestId, commandId, operation: draft.operation, caller, ...(principal.tenant ? { tenant: principal.tenant } : {}) },
    });
    const messages = encodeBatches([
      { topic: commandTopic(draft.vendor), schema: COMMAND_SCHEMAS[draft.vendor], messages: [{ key: draft.cardId, value: command }] },
      eventBatch([accepted]),
    ]);
    const record = { id: requestId, commandId, vendor: draft.vendor, operation: draft.operation, cardId: draft.cardId, caller, tenant: principal.tenant ?? null, idempotencyKey: idempotencyKey ?? null, fingerprint, messages };
    // Accepted means durable: 202 only once the request and its messages are committed.
    const outcome = await this.writer.write(record).catch(() => {
      // Nothing of this request was recorded (its group commit failed): a retry with the same key is safe.
      throw new TemporarilyUnavailableException();
    });
    // A request with the same key committed first (in this group or before): answer like any later repeat.
    if (!outcome.written) return { response: this.replay(outcome.earlier, fingerprint), replayed: true };
    this.relay.wake();
    return { response: this.acceptedResponse(requestId), replayed: false };
  }

  private replay(earlier: EarlierRequest, fingerprint: string): AcceptedResponse {
    if (earlier.fingerprint !== fingerprint) {
      throw new ProblemException(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key already used for another request', 'Use a new Idempotency-Key for a different request.');
    }
    return this.acceptedResponse(earlier.id);
  }

  private acceptedResponse(requestId: string): AcceptedResponse {
    return { requestId, status: 'accepted', statusUrl: `${this.config.INTAKE_PUBLIC_BASE_URL}/v1/requests/${requestId}` };
  }
}
