import { Injectable } from '@nestjs/common';
import type { PinflowEvent } from '@pinflow/contracts';
import { Prisma, PrismaClient } from '@pinflow/db';

/** An event as the audit API shows it. */
export interface AuditedEvent {
  id: string;
  type: string;
  time: string;
  /** When the audit trail stored it. */
  recordedAt: string;
  subject: string;
  data: Prisma.JsonValue;
}

export interface EventPage {
  events: AuditedEvent[];
  /** Sequence of the last event on this page when older events follow it. */
  continueAfter?: bigint;
}

function toAudited(row: Prisma.AuditEventModel): AuditedEvent {
  return {
    id: row.eventId,
    type: row.type,
    time: row.time.toISOString(),
    recordedAt: row.recordedAt.toISOString(),
    subject: row.cardId,
    data: row.data,
  };
}

/** audit_events: written once per event id, read by request and by card; never changed. */
@Injectable()
export class AuditEventStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Stores the event unless its id is already stored (ON CONFLICT DO NOTHING), so a redelivery is
   * absorbed. True when this call stored it.
   */
  async record(event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.auditEvent.createMany({
      data: [
        {
          eventId: event.id,
          type: event.type,
          source: event.source,
          cardId: event.subject,
          requestId: event.data.requestId ?? null,
          commandId: event.data.commandId ?? null,
          time: new Date(event.time),
          data: event.data as Prisma.InputJsonObject,
        },
      ],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** Every event of a request, oldest first (in the order they arrived). */
  async requestEvents(requestId: string): Promise<AuditedEvent[]> {
    const rows = await this.prisma.auditEvent.findMany({ where: { requestId }, orderBy: { sequence: 'asc' } });
    return rows.map(toAudited);
  }

  /** A card's events, newest first, `limit` at a time, continuing after the sequence `after`. */
  async cardEvents(cardId: string, limit: number, after?: bigint): Promise<EventPage> {
    const rows = await this.prisma.auditEvent.findMany({
      where: { cardId, ...(after === undefined ? {} : { sequence: { lt: after } }) },
      orderBy: { sequence: 'desc' },
      // One more than asked tells whether another page exists without counting.
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      events: page.map(toAudited),
      continueAfter: rows.length > limit ? page[page.length - 1].sequence : undefined,
    };
  }
}
