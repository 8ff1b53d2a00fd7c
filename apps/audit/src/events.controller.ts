import { Controller, Get, Param, Query } from '@nestjs/common';
import { isOperator, maySee, PIN_READ_SCOPE, Principal, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { cardId, EVENT_TYPES, eventDataSchemas, RequestStatus, requestStatusOf } from '@pinflow/contracts';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor';
import { AuditedEvent, AuditEventStore } from './event-store';

const requestPath = z.object({ requestId: z.uuid() });
const cardPath = z.object({ cardId });
const cardQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .optional()
    .transform((cursor, context) => {
      if (cursor === undefined) return undefined;
      const after = decodeCursor(cursor);
      if (after === undefined) context.addIssue({ code: 'custom', message: 'must be the nextCursor of a previous page' });
      return after;
    }),
});

export interface RequestHistory {
  requestId: string;
  status: RequestStatus;
  events: AuditedEvent[];
}

export interface CardHistory {
  cardId: string;
  events: AuditedEvent[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Who made a request, as its accepted event tells. */
const requestOwner = eventDataSchemas[EVENT_TYPES.accepted].pick({ caller: true, tenant: true });

/** The same answer for what exists but is not the caller's as for what does not: no telling which ids exist. */
const requestNotFound = () => new ProblemException(404, 'REQUEST_NOT_FOUND', 'Request not found', 'The audit trail has no events for this request that this caller may see.');

/**
 * What happened to a request or a card, from the audit trail. A request's history is its caller's,
 * its tenant's and operators'; a card's is for the callers (or tenants) that made requests about it
 * and for operators. To anyone else both are 404.
 */
@Controller('v1')
@RequireScopes(PIN_READ_SCOPE)
export class EventsController {
  constructor(private readonly store: AuditEventStore) {}

  @Get('requests/:requestId/events')
  async requestHistory(
    @Param(new ZodValidationPipe(requestPath, 'path')) { requestId }: z.output<typeof requestPath>,
    @Principal() principal: AuthenticatedPrincipal,
  ): Promise<RequestHistory> {
    const events = await this.store.requestEvents(requestId);
    if (events.length === 0) throw requestNotFound();
    if (!isOperator(principal)) {
      // Until its accepted event is in, a request has no known owner: only operators see it.
      const owner = requestOwner.safeParse(events.find((event) => event.type === EVENT_TYPES.accepted)?.data);
      if (!owner.success || !maySee(principal, owner.data)) throw requestNotFound();
    }
    return { requestId, status: requestStatusOf(events.map((event) => event.type)), events };
  }

  @Get('cards/:cardId/events')
  async cardHistory(
    @Param(new ZodValidationPipe(cardPath, 'path')) path: z.output<typeof cardPath>,
    @Query(new ZodValidationPipe(cardQuery, 'query')) query: z.output<typeof cardQuery>,
    @Principal() principal: AuthenticatedPrincipal,
  ): Promise<CardHistory> {
    if (!isOperator(principal) && !(await this.store.hasActedOnCard(path.cardId, principal))) {
      throw new ProblemException(404, 'CARD_NOT_FOUND', 'Card not found', 'The audit trail has no history of this card that this caller may see.');
    }
    const page = await this.store.cardEvents(path.cardId, query.limit, query.cursor);
    return {
      cardId: path.cardId,
      events: page.events,
      nextCursor: page.continueAfter === undefined ? null : encodeCursor(page.continueAfter),
    };
  }
}
