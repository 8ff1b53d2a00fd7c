import { Inject, Injectable } from '@nestjs/common';
import { buildEvent, COMMAND_SCHEMAS, commandTopic, EVENT_TYPES, PinflowCommand } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';
import { ProblemException } from '@pinflow/http';
import { eventBatch, JsonProducer } from '@pinflow/kafka';
import type { AuthenticatedPrincipal } from '@pinflow/auth';
import { createHash, randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { AcceptedResponse } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';

type Identity = 'schemaVersion' | 'commandId' | 'requestId' | 'caller' | 'issuedAt';

/** A command before intake gives it its identity. */
export type CommandDraft = PinflowCommand extends infer C ? (C extends PinflowCommand ? Omit<C, Identity> : never) : never;

export interface Submission {
  principal: AuthenticatedPrincipal;
  idempotencyKey?: string;
  /** The request's identity for idempotency: never a clear PIN. */
  fingerprintSource: Record<string, unknown>;
  /** Builds the command only once the request is known to be new: sealing a PIN costs an RSA operation. */
  draft: () => Promise<CommandDraft>;
}

const PENDING = 'pending';
const ACCEPTED = 'accepted';

/**
 * Accepts a request: records it (the idempotency record), publishes its command and the accepted
 * event, and answers 202. A repeat with the same Idempotency-Key and body gets the first answer
 * and publishes nothing.
 */
@Injectable()
export class RequestsService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly producer: JsonProducer,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  async submit(submission: Submission): Promise<{ response: AcceptedResponse; replayed: boolean }> {
    const fingerprint = createHash('sha256').update(JSON.stringify(submission.fingerprintSource)).digest('hex');
    const caller = submission.principal.subject;
    if (submission.idempotencyKey) {
      const earlier = await this.prisma.intakeRequest.findUnique({
        where: { caller_idempotencyKey: { caller, idempotencyKey: submission.idempotencyKey } },
      });
      if (earlier) return { response: this.replay(earlier, fingerprint), replayed: true };
    }

    const draft = await submission.draft();
    const requestId = randomUUID();
    const commandId = randomUUID();
    try {
      await this.prisma.intakeRequest.create({
        data: {
          id: requestId,
          commandId,
          vendor: draft.vendor,
          operation: draft.operation,
          cardId: draft.cardId,
          caller,
          idempotencyKey: submission.idempotencyKey ?? null,
          requestFingerprint: fingerprint,
          status: PENDING,
        },
      });
    } catch (error) {
      // Two requests with the same key raced; the loser answers like any later repeat.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002' && submission.idempotencyKey) {
        const winner = await this.prisma.intakeRequest.findUniqueOrThrow({
          where: { caller_idempotencyKey: { caller, idempotencyKey: submission.idempotencyKey } },
        });
        return { response: this.replay(winner, fingerprint), replayed: true };
      }
      throw error;
    }

    const command = {
      ...draft,
      schemaVersion: 1,
      commandId,
      requestId,
      caller: { subject: caller, ...(submission.principal.clientId ? { clientId: submission.principal.clientId } : {}) },
      issuedAt: new Date().toISOString(),
    };
    const accepted = buildEvent(EVENT_TYPES.accepted, {
      source: '/pinflow/intake',
      cardId: draft.cardId,
      data: { vendor: draft.vendor, requestId, commandId, operation: draft.operation, caller },
    });
    try {
      await this.producer.sendBatch([
        { topic: commandTopic(draft.vendor), schema: COMMAND_SCHEMAS[draft.vendor], messages: [{ key: draft.cardId, value: command }] },
        eventBatch([accepted]),
      ]);
    } catch {
      // Not published, so not accepted: forget the request so that the client's retry starts afresh.
      await this.prisma.intakeRequest.delete({ where: { id: requestId } }).catch(() => undefined);
      throw new ProblemException(503, 'BROKER_UNAVAILABLE', 'The request could not be recorded', 'Retry later with the same Idempotency-Key.', {
        retryable: true,
      });
    }
    await this.prisma.intakeRequest.updateMany({ where: { id: requestId, status: PENDING }, data: { status: ACCEPTED } });
    return { response: this.acceptedResponse(requestId), replayed: false };
  }

  private replay(earlier: { id: string; requestFingerprint: string; status: string }, fingerprint: string): AcceptedResponse {
    if (earlier.requestFingerprint !== fingerprint) {
      throw new ProblemException(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key already used for another request', 'Use a new Idempotency-Key for a different request.');
    }
    if (earlier.status === PENDING) {
      throw new ProblemException(409, 'REQUEST_IN_PROGRESS', 'The first request with this Idempotency-Key is still being accepted', 'Retry shortly.');
    }
    return this.acceptedResponse(earlier.id);
  }

  private acceptedResponse(requestId: string): AcceptedResponse {
    return { requestId, status: 'accepted', statusUrl: `${this.config.INTAKE_PUBLIC_BASE_URL}/v1/requests/${requestId}` };
  }
}

/** 202 with the status URL in Location; a replay says so (IETF idempotency-key draft). */
export function answerAccepted(result: { response: AcceptedResponse; replayed: boolean }, response: Response): AcceptedResponse {
  response.location(result.response.statusUrl);
  if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
  return result.response;
}
