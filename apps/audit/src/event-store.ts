import { Injectable } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@pinflow/auth';
import { EVENT_TYPES, TERMINAL_EVENT_TYPES, type PinflowEvent } from '@pinflow/contracts';
import type { Prisma } from '@pinflow/db';
import { Coalescer, SqlPool } from '@pinflow/sql';

/** An event as the audit API shows it. */
export interface AuditedEvent {
  id: string;
  type: string;
  time: string;
  /** When the audit trail stored it. */
  recordedAt: string;
  subject: string;
  data: Prisma.JsonValue;
  /** The trace the event travelled in, when its producer traced. */
  traceId: string | null;
}

/** How many requests of one vendor ended one way (an outcome event type, and a failure's reason) since a moment. */
export interface OutcomeCount {
  vendor: string;
  type: string;
  reason: string | null;
  count: number;
  lastAt: string;
}

export interface EventPage {
  events: AuditedEvent[];
  /** Sequence of the last event on this page when older events follow it. */
  continueAfter?: bigint;
}

/** What the API shows of a row of audit_events, under the names of AuditEventModel; sequence is int8, which pg leaves a string. */
type AuditRow = Pick<Prisma.AuditEventModel, 'eventId' | 'type' | 'time' | 'recordedAt' | 'cardId' | 'data' | 'traceId'> & { sequence: string };

const AUDIT_COLUMNS = 'sequence, event_id AS "eventId", type, time, recorded_at AS "recordedAt", card_id AS "cardId", data, trace_id AS "traceId"';

function toAudited(row: AuditRow): AuditedEvent {
  return {
    id: row.eventId,
    type: row.type,
    time: row.time.toISOString(),
    recordedAt: row.recordedAt.toISOString(),
    subject: row.cardId,
    data: row.data,
    traceId: row.traceId,
  };
}

/**
 * Stores a batch of events in one statement, each unless its id is already stored, in the batch's
 * order (a card's events arrive in order on its partition). A prepared statement on the pool: the
 * consumer's hot path, where Prisma's per-call query compilation would cost more than the insert.
 * The audit_events_chain trigger links each row into its card's hash chain within this statement.
 */
const RECORD_EVENTS = {
  name: 'audit-record-events',
  text: `INSERT INTO audit_events (event_id, type, source, card_id, request_id, command_id, time, data, trace_id, signer)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[], $9::text[], $10::text[])
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
};

/** The reads of the audit API, prepared like the insert. */
const REQUEST_EVENTS = {
  name: 'audit-request-events',
  text: `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE request_id = $1 ORDER BY sequence`,
};

/** Compares JSON with JSON (as Prisma's `equals` on a path did), so a number never matches a string; a missing tenant matches nothing. */
const HAS_ACTED_ON_CARD = {
  name: 'audit-has-acted-on-card',
  text: `SELECT EXISTS (SELECT FROM audit_events WHERE card_id = $1 AND type = $2
           AND (data->'caller' = to_jsonb($3::text) OR data->'tenant' = to_jsonb($4::text))) AS "acted"`,
};

const CARD_EVENTS = {
  name: 'audit-card-events',
  text: `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE card_id = $1 AND ($2::bigint IS NULL OR sequence < $2::bigint)
         ORDER BY sequence DESC LIMIT $3`,
};

/** The outcome events since $1 ($2: the outcome types), read through audit_events_type_time_idx, not a scan of the trail. */
export const OUTCOME_COUNTS = {
  name: 'audit-outcome-counts',
  text: `SELECT data->>'vendor' AS vendor, type, data->>'reason' AS reason, count(*)::int AS count, max(time) AS last_at
           FROM audit_events WHERE time >= $1 AND type = ANY($2::text[]) AND data ? 'vendor'
          GROUP BY 1, 2, 3`,
};

/** Where a stored event came from. */
export interface EventOrigin {
  traceId?: string;
  signer?: string;
}

/** Most events one insert carries. */
const MAX_EVENTS_PER_INSERT = 1_000;

/** audit_events: written once per event id, read by request and by card; never changed. */
@Injectable()
export class AuditEventStore {
  /**
   * Every partition's batch in hand at once goes into one insert: consumed six partitions at a time,
   * each batch a statement of its own took one round trip and one commit for a few events.
   * An event whose id is already in the run waits for the next one, so it is told it was stored once.
   */
  private readonly inserts = new Coalescer<{ event: PinflowEvent; origin?: EventOrigin }, boolean>((inputs) => this.insert(inputs), {
    maxBatch: MAX_EVENTS_PER_INSERT,
    keyOf: ({ event }) => event.id,
  });

  constructor(private readonly pool: SqlPool) {}

  /**
   * Stores the events not stored yet (ON CONFLICT DO NOTHING), so a redelivery is absorbed; the ids
   * this call stored. `origins[i]` is where `events[i]` came from: the trace of its message, if it had
   * one, and the service that signed it.
   */
  async record(events: PinflowEvent[], origins: readonly EventOrigin[] = []): Promise<Set<string>> {
    const stored = await Promise.all(events.map((event, index) => this.inserts.submit({ event, origin: origins[index] })));
    return new Set(events.filter((_, index) => stored[index]).map((event) => event.id));
  }

  private async insert(inputs: { event: PinflowEvent; origin?: EventOrigin }[]): Promise<boolean[]> {
    const events = inputs.map(({ event }) => event);
    const { rows } = await this.pool.query<{ event_id: string }>({
      ...RECORD_EVENTS,
      values: [
        events.map((event) => event.id),
        events.map((event) => event.type),
        events.map((event) => event.source),
        events.map((event) => event.subject),
        events.map((event) => event.data.requestId ?? null),
        events.map((event) => event.data.commandId ?? null),
        events.map((event) => event.time),
        events.map((event) => JSON.stringify(event.data)),
        inputs.map(({ origin }) => origin?.traceId ?? null),
        inputs.map(({ origin }) => origin?.signer ?? null),
      ],
    });
    const stored = new Set(rows.map((row) => row.event_id));
    return events.map((event) => stored.has(event.id));
  }

  /** Every event of a request, oldest first (in the order they arrived). */
  async requestEvents(requestId: string): Promise<AuditedEvent[]> {
    const { rows } = await this.pool.query<AuditRow>({ ...REQUEST_EVENTS, values: [requestId] });
    return rows.map(toAudited);
  }

  /**
   * Whether `principal` (or, when it has a tenant, any caller of its tenant) made a request about
   * the card: what entitles it to the card's history.
   */
  async hasActedOnCard(cardId: string, principal: AuthenticatedPrincipal): Promise<boolean> {
    const { rows } = await this.pool.query<{ acted: boolean }>({
      ...HAS_ACTED_ON_CARD,
      values: [cardId, EVENT_TYPES.accepted, principal.subject, principal.tenant ?? null],
    });
    return rows[0].acted;
  }

  /** A card's events, newest first, `limit` at a time, continuing after the sequence `after`. */
  async cardEvents(cardId: string, limit: number, after?: bigint): Promise<EventPage> {
    // One more than asked tells whether another page exists without counting.
    const { rows } = await this.pool.query<AuditRow>({ ...CARD_EVENTS, values: [cardId, after?.toString() ?? null, limit + 1] });
    const page = rows.slice(0, limit);
    return {
      events: page.map(toAudited),
      continueAfter: rows.length > limit ? BigInt(page[page.length - 1].sequence) : undefined,
    };
  }

  /** Outcome events since `since`, counted by vendor, type and failure reason: what the console's vendor health is read from. */
  async outcomeCounts(since: Date): Promise<OutcomeCount[]> {
    const { rows } = await this.pool.query<{ vendor: string; type: string; reason: string | null; count: number; last_at: Date }>({
      ...OUTCOME_COUNTS,
      values: [since, [...TERMINAL_EVENT_TYPES]],
    });
    return rows.map((row) => ({ vendor: row.vendor, type: row.type, reason: row.reason, count: row.count, lastAt: row.last_at.toISOString() }));
  }
}
