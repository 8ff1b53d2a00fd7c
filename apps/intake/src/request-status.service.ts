import { Injectable } from '@nestjs/common';
import { maySee, type AuthenticatedPrincipal } from '@pinflow/auth';
import { PinflowEvent, requestStatusOf } from '@pinflow/contracts';
import { histogram } from '@pinflow/metrics';
import { Coalescer, SqlPool } from '@pinflow/sql';
import type { RequestStatusResponse } from './api-schemas';

// OFFSET 0 keeps the EXISTS a primary-key probe per event: as a semi-join, a plan cached while the
// table looked small hashed all of intake_requests on every call (see FIND_EARLIER in request-writer).
const RECORD_EVENTS = `
  INSERT INTO intake_request_events (event_id, request_id, type, time, data)
  SELECT event.event_id, event.request_id, event.type, event.time, event.data::jsonb
  FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[]) AS event (event_id, request_id, type, time, data)
  WHERE EXISTS (SELECT FROM intake_requests WHERE intake_requests.id = event.request_id OFFSET 0)
  ON CONFLICT (event_id) DO NOTHING`;

// A success replaces any other status but a success; a failure replaces only 'accepted'. What
// moved comes back for the accept-to-outcome histogram.
const COMPLETE_REQUESTS = `
  UPDATE intake_requests SET status = outcome.status, completed_at = outcome.completed_at
  FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS outcome (request_id, status, completed_at)
  WHERE intake_requests.id = outcome.request_id
    AND CASE outcome.status WHEN 'succeeded' THEN intake_requests.status <> 'succeeded' ELSE intake_requests.status = 'accepted' END
  RETURNING intake_requests.vendor, intake_requests.operation, intake_requests.status,
    extract(epoch FROM now() - intake_requests.accepted_at)::float8 AS seconds`;

/** A request with its events, a row per event (one with no event columns while it has none), oldest first. */
const FIND_REQUEST = {
  name: 'intake-find-request',
  text: `SELECT request.id, request.status, request.vendor, request.operation, request.card_id AS "cardId", request.caller, request.tenant,
      request.accepted_at AS "acceptedAt", request.completed_at AS "completedAt",
      event.event_id AS "eventId", event.type AS "eventType", event.time AS "eventTime", event.data AS "eventData"
    FROM intake_requests request LEFT JOIN intake_request_events event ON event.request_id = request.id
    WHERE request.id = $1
    ORDER BY event.time`,
};

interface RequestEventRow {
  id: string;
  status: RequestStatusResponse['status'];
  vendor: string;
  operation: string;
  cardId: string;
  caller: string;
  tenant: string | null;
  acceptedAt: Date;
  completedAt: Date | null;
  eventId: string | null;
  eventType: string;
  eventTime: Date;
  eventData: Record<string, unknown>;
}

const acceptedToOutcome = histogram({
  name: 'pinflow_request_outcome_seconds',
  help: "From a request's acceptance to intake recording its outcome (what a caller polling its status sees), by vendor, operation and status (succeeded, failed); a failure a later success overrode counts in both",
  labelNames: ['vendor', 'operation', 'status'],
});

interface CompletedRequest {
  vendor: string;
  operation: string;
  status: string;
  seconds: number;
}

/** An event that names one of intake's requests (or another deployment's). */
type RequestEvent = PinflowEvent & { data: { requestId: string } };

function isAboutARequest(event: PinflowEvent): event is RequestEvent {
  return event.data.requestId !== undefined;
}

interface FinalOutcome {
  requestId: string;
  status: 'succeeded' | 'failed';
  completedAt: Date;
}

/**
 * Per request, the final status its events decide, as recording them one by one in order would:
 * its first success if it has one, or else its first failure.
 */
function finalOutcomes(events: RequestEvent[]): FinalOutcome[] {
  const outcomes = new Map<string, FinalOutcome>();
  for (const event of events) {
    const status = requestStatusOf([event.type]);
    if (status !== 'succeeded' && status !== 'failed') continue;
    const { requestId } = event.data;
    const decided = outcomes.get(requestId);
    if (decided && (decided.status === 'succeeded' || status === 'failed')) continue;
    outcomes.set(requestId, { requestId, status, completedAt: new Date(event.time) });
  }
  return [...outcomes.values()];
}

/** Most events one run of the two statements carries. */
const MAX_EVENTS_PER_RUN = 1_000;

/**
 * Keeps each request's status and the events that answered it, from pinflow.events.v1, so callers
 * can ask intake what happened without knowing about the audit service.
 */
@Injectable()
export class RequestStatusService {
  /**
   * The events of every partition's batch in hand at once are recorded together: consumed six
   * partitions at a time, each batch's two statements were two round trips and two commits for a few
   * events. A request's events all come from one partition, in order, and a batch waits for its run,
   * so a later event of a request is never recorded before an earlier one.
   */
  private readonly runs = new Coalescer<RequestEvent, void>(
    async (events) => {
      await this.recordTogether(events);
      return events.map(() => undefined);
    },
    { maxBatch: MAX_EVENTS_PER_RUN },
  );

  constructor(private readonly pool: SqlPool) {}

  /**
   * Records events (a partition's fetched batch) about intake's requests and moves each request to
   * its final status. Events about requests intake does not know (accepted by another deployment
   * sharing the topic) are not recorded.
   */
  async record(events: PinflowEvent[]): Promise<void> {
    await Promise.all(events.filter(isAboutARequest).map((event) => this.runs.submit(event)));
  }

  /**
   * One statement for the events, one for the statuses, each autocommitted so that a pooled
   * connection is held for one round trip. Redeliveries and races are harmless: the insert is
   * idempotent, and a status only moves forward (a success outranks a failure, as `requestStatusOf` says).
   */
  private async recordTogether(aboutRequests: RequestEvent[]): Promise<void> {
    await this.pool.query({
      name: 'intake-record-events',
      text: RECORD_EVENTS,
      values: [
        aboutRequests.map((event) => event.id),
        aboutRequests.map((event) => event.data.requestId),
        aboutRequests.map((event) => event.type),
        aboutRequests.map((event) => new Date(event.time)),
        aboutRequests.map((event) => JSON.stringify(event.data)),
      ],
    });
    const outcomes = finalOutcomes(aboutRequests);
    if (outcomes.length === 0) return;
    // Unnamed, so planned for each call: an UPDATE … FROM cannot be kept to primary-key probes the way
    // the statements above are, and a cached plan made while intake_requests looked small scans the
    // whole table on every call (see FIND_EARLIER in request-writer).
    const { rows } = await this.pool.query<CompletedRequest>({
      text: COMPLETE_REQUESTS,
      values: [outcomes.map((outcome) => outcome.requestId), outcomes.map((outcome) => outcome.status), outcomes.map((outcome) => outcome.completedAt)],
    });
    for (const { vendor, operation, status, seconds } of rows) acceptedToOutcome.observe({ vendor, operation, status }, seconds);
  }

  /**
   * The request as `viewer` may see it: only its caller, the caller's tenant and operators get it;
   * to anyone else it does not exist, so a request id tells them nothing.
   */
  async find(requestId: string, viewer: AuthenticatedPrincipal): Promise<RequestStatusResponse | undefined> {
    const { rows } = await this.pool.query<RequestEventRow>({ ...FIND_REQUEST, values: [requestId] });
    const [request] = rows;
    if (!request || !maySee(viewer, request)) return undefined;
    return {
      requestId: request.id,
      status: request.status,
      vendor: request.vendor,
      operation: request.operation,
      cardId: request.cardId,
      acceptedAt: request.acceptedAt.toISOString(),
      completedAt: request.completedAt?.toISOString() ?? null,
      events: rows.flatMap(({ eventId, eventType, eventTime, eventData }) =>
        eventId === null ? [] : [{ id: eventId, type: eventType, time: eventTime.toISOString(), data: eventData }],
      ),
    };
  }
}
