import { Controller, Get, Param, Query } from '@nestjs/common';
import { PIN_READ_SCOPE, RequireScopes } from '@pinflow/auth';
import { cardId, RequestStatus, requestStatusOf } from '@pinflow/contracts';
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

/** What happened to a request or a card, from the audit trail. */
@Controller('v1')
@RequireScopes(PIN_READ_SCOPE)
export class EventsController {
  constructor(private readonly store: AuditEventStore) {}

  @Get('requests/:requestId/events')
  async requestHistory(@Param(new ZodValidationPipe(requestPath, 'path')) { requestId }: z.output<typeof requestPath>): Promise<RequestHistory> {
    const events = await this.store.requestEvents(requestId);
    if (events.length === 0) {
      throw new ProblemException(404, 'REQUEST_NOT_FOUND', 'Request not found', 'The audit trail has no events for this request.');
    }
    return { requestId, status: requestStatusOf(events.map((event) => event.type)), events };
  }

  @Get('cards/:cardId/events')
  async cardHistory(
    @Param(new ZodValidationPipe(cardPath, 'path')) path: z.output<typeof cardPath>,
    @Query(new ZodValidationPipe(cardQuery, 'query')) query: z.output<typeof cardQuery>,
  ): Promise<CardHistory> {
    const page = await this.store.cardEvents(path.cardId, query.limit, query.cursor);
    return {
      cardId: path.cardId,
      events: page.events,
      nextCursor: page.continueAfter === undefined ? null : encodeCursor(page.continueAfter),
    };
  }
}
