import { Inject, Injectable } from '@nestjs/common';
import { buildEvent, COMMAND_SCHEMAS, commandTopic, EVENT_TYPES, PinflowCommand } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import { ProblemException } from '@pinflow/http';
import { encodeBatches, eventBatch } from '@pinflow/kafka';
import { createHash, randomUUID } from 'node:crypto';
import type { Acceptance } from './acceptance';
import type { AcceptedResponse } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { OutboxRelay } from './outbox-relay';

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
 * event in the outbox, and answers 202; the relay publishes them. A repeat with the same
 * Idempotency-Key and body gets the first answer and publishes nothing.
 */
@Injectable()
export class RequestsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly relay: OutboxRelay,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** Answers 202 with the status URL in Location; a replay says so (IETF idempotency-key draft). */
  async accept(acceptance: Acceptance, submission: Submission): Promise<AcceptedResponse> {
    const { response, replayed } = await this.submit(acceptance, submission);
    acceptance.response.location(response.statusUrl);
    if (replayed) acceptance.response.setHeader('Idempotent-Replayed', 'true');
    return response;
  }

  private async submit(acceptance: Acceptance, submission: Submission): Promise<{ response: AcceptedResponse; replayed: boolean }> {
    const fingerprint = createHash('sha256').update(JSON.stringify(submission.fingerprintSource)).digest('hex');
    const { principal, idempotencyKey } = acceptance;
    const caller = principal.subject;
    if (idempotencyKey) {
      const earlier = await this.prisma.intakeRequest.findUnique({ where: { caller_idempotencyKey: { caller, idempotencyKey } } });
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
      data: { vendor: draft.vendor, requestId, commandId, operation: draft.operation, caller },
    });
    const messages = encodeBatches([
      { topic: commandTopic(draft.vendor), schema: COMMAND_SCHEMAS[draft.vendor], messages: [{ key: draft.cardId, value: command }] },
      eventBatch([accepted]),
    ]);
    try {
      // Accepted means durable: the request and its messages commit together, or not at all.
      await this.prisma.$transaction([
        this.prisma.intakeRequest.create({
          data: {
            id: requestId,
            commandId,
            vendor: draft.vendor,
            operation: draft.operation,
            cardId: draft.cardId,
            caller,
            idempotencyKey: idempotencyKey ?? null,
            requestFingerprint: fingerprint,
            status: 'accepted',
          },
        }),
        this.prisma.outboxMessage.createMany({ data: messages }),
      ]);
    } catch (error) {
      // Two requests with the same key raced; the loser answers like any later repeat.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && idempotencyKey) {
        const winner = await this.prisma.intakeRequest.findUniqueOrThrow({ where: { caller_idempotencyKey: { caller, idempotencyKey } } });
        return { response: this.replay(winner, fingerprint), replayed: true };
      }
      throw error;
    }
    this.relay.wake();
    return { response: this.acceptedResponse(requestId), replayed: false };
  }

  private replay(earlier: { id: string; requestFingerprint: string }, fingerprint: string): AcceptedResponse {
    if (earlier.requestFingerprint !== fingerprint) {
      throw new ProblemException(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key already used for another request', 'Use a new Idempotency-Key for a different request.');
    }
    return this.acceptedResponse(earlier.id);
  }

  private acceptedResponse(requestId: string): AcceptedResponse {
    return { requestId, status: 'accepted', statusUrl: `${this.config.INTAKE_PUBLIC_BASE_URL}/v1/requests/${requestId}` };
  }
}

