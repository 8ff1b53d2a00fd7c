import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@pinflow/auth';
import { buildEvent, CloudEvent, COMMAND_SCHEMAS, commandTopic, deterministicEventId, EVENT_TYPES, PinflowCommand, Vendor } from '@pinflow/contracts';
import { ProblemException, TemporarilyUnavailableException } from '@pinflow/http';
import { encodeBatches, eventBatch, TopicBatch } from '@pinflow/kafka';
import { createHash, randomUUID } from 'node:crypto';
import type { AcceptedResponse } from './api-schemas';
import { cardNotFound, requiredCardOwner } from './card-ownership';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { OutboxRelay } from './outbox-relay';
import { EarlierRequest, RequestWriter } from './request-writer';

type Identity = 'schemaVersion' | 'commandId' | 'requestId' | 'caller' | 'issuedAt';

/** A command before intake gives it its identity. */
export type CommandDraft = PinflowCommand extends infer C ? (C extends PinflowCommand ? Omit<C, Identity> : never) : never;

export interface Submission {
  /** The request's identity for idempotency: never a clear secret (encrypted ones count as their opaque text). */
  fingerprintSource: Record<string, unknown>;
  /** Builds the command only once the request is known to be new: sealing a secret costs RSA operations. Its secrets are bound to `commandId`. */
  draft: (commandId: string) => Promise<CommandDraft>;
}

/** Who submits a request, authenticated by either door, and how it is answered. */
export interface Requester {
  principal: AuthenticatedPrincipal;
  /** The HTTP Idempotency-Key, or the Kafka requester's request id. */
  idempotencyKey?: string;
  /** A topic the requester asked (and may ask) its answer to be copied to: the Kafka door's. */
  replyTopic?: string;
}

export type AcceptedEvent = CloudEvent<typeof EVENT_TYPES.accepted>;

/** A request accepted now, or earlier (`replayed`: the same request again), with its accepted event. */
export interface Accepted {
  response: AcceptedResponse;
  replayed: boolean;
  event: AcceptedEvent;
}

/**
 * Accepts a request, from the HTTP door or the Kafka door alike: records it (the idempotency record)
 * together with its command and accepted event in the outbox, by group commit; the relay publishes
 * them. A repeat with the same idempotency key and body gets the first answer and publishes nothing;
 * with another body it is refused (IDEMPOTENCY_KEY_REUSED). With card ownership enforced, a request
 * for a card that is not the caller's tenant's is refused by that same commit (CARD_NOT_FOUND), and
 * a caller without a tenant at once (TENANT_REQUIRED). Refusals are ProblemExceptions, the same
 * whichever door the request came through.
 */
@Injectable()
export class RequestsService {
  constructor(
    private readonly writer: RequestWriter,
    private readonly relay: OutboxRelay,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  async submit(requester: Requester, submission: Submission): Promise<Accepted> {
    const fingerprint = createHash('sha256').update(JSON.stringify(submission.fingerprintSource)).digest('hex');
    const { principal, idempotencyKey } = requester;
    const caller = principal.subject;
    const requiredOwner = requiredCardOwner(this.config.INTAKE_CARD_OWNERSHIP, principal);
    if (idempotencyKey) {
      const earlier = await this.writer.earlierRequest(caller, idempotencyKey);
      if (earlier) return this.replay(requester, earlier, fingerprint);
    }

    const commandId = randomUUID();
    const draft = await submission.draft(commandId);
    const requestId = randomUUID();
    const command = {
      ...draft,
      schemaVersion: 1 as const,
      commandId,
      requestId,
      caller: { subject: caller, ...(principal.clientId ? { clientId: principal.clientId } : {}) },
      issuedAt: new Date().toISOString(),
    };
    const record = { id: requestId, commandId, vendor: draft.vendor, operation: draft.operation, cardId: draft.cardId, caller, tenant: principal.tenant ?? null, idempotencyKey: idempotencyKey ?? null, fingerprint, requiredOwner };
    const accepted = acceptedEvent(requester, record);
    const messages = encodeBatches([
      { topic: commandTopic(draft.vendor), schema: COMMAND_SCHEMAS[draft.vendor], messages: [{ key: draft.cardId, value: command }] },
      ...answerBatches(accepted, requester.replyTopic),
    ]);
    // Accepted means durable: answered only once the request and its messages are committed.
    const outcome = await this.writer.write({ ...record, messages }).catch((error: unknown) => {
      // Nothing of this request was recorded (its group commit failed): a retry with the same key is safe.
      throw new TemporarilyUnavailableException({ cause: error });
    });
    if ('cardNotOwned' in outcome) throw cardNotFound();
    // A request with the same key committed first (in this group or before): answer like any later repeat.
    if (!outcome.written) return this.replay(requester, outcome.earlier, fingerprint);
    this.relay.wake();
    return { response: this.acceptedResponse(requestId), replayed: false, event: accepted };
  }

  private replay(requester: Requester, earlier: EarlierRequest, fingerprint: string): Accepted {
    if (earlier.fingerprint !== fingerprint) {
      throw new ProblemException(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key already used for another request', 'Use a new Idempotency-Key for a different request.');
    }
    return { response: this.acceptedResponse(earlier.id), replayed: true, event: acceptedEvent(requester, earlier) };
  }

  private acceptedResponse(requestId: string): AcceptedResponse {
    return { requestId, status: 'accepted', statusUrl: `${this.config.INTAKE_PUBLIC_BASE_URL}/v1/requests/${requestId}` };
  }
}

/**
 * A request's accepted event. Its id derives from the request, so that the answer a repeat gets
 * again is the same event, which consumers deduplicate.
 */
function acceptedEvent(requester: Requester, request: Pick<EarlierRequest, 'id' | 'commandId' | 'vendor' | 'operation' | 'cardId'>): AcceptedEvent {
  return buildEvent(EVENT_TYPES.accepted, {
    id: deterministicEventId(EVENT_TYPES.accepted, request.id),
    source: '/pinflow/intake',
    cardId: request.cardId,
    data: {
      vendor: request.vendor as Vendor,
      requestId: request.id,
      commandId: request.commandId,
      operation: request.operation,
      caller: requester.principal.subject,
      ...(requester.principal.tenant ? { tenant: requester.principal.tenant } : {}),
      ...(requester.idempotencyKey ? { clientRequestId: requester.idempotencyKey } : {}),
    },
  });
}

/** An answer for pinflow.events.v1 and, when the requester named one, a copy for its reply topic. */
export function answerBatches(event: Parameters<typeof eventBatch>[0][number], replyTopic: string | undefined): TopicBatch[] {
  return [eventBatch([event]), ...(replyTopic ? [eventBatch([event], replyTopic)] : [])];
}
