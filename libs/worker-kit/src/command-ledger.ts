import type { PinflowEvent, Vendor } from '@pinflow/contracts';
import type { Prisma } from '@pinflow/db';
import { Coalescer, SqlPool } from '@pinflow/sql';
import { inSpan, SpanKind, traceHeaders, type TraceHeaders } from '@pinflow/tracing';
import type { QueryResult } from 'pg';
import { z } from 'zod';
import { COMMAND_STATES, CommandRef, FinalState } from './outcomes';

export type StoredCommand = Prisma.VendorCommandModel;

/** Facts about a command its vendor's later events need; never a secret. */
export type CommandDetails = Prisma.InputJsonObject;

/** What claiming a command came to: it is this delivery's to call, or it was known, as it stands. */
export type Claim = { claimed: true } | { claimed: false; known: StoredCommand };

/** What the worker knows of a vendor event: whether it was handled, and the command its correlation id names. */
export interface VendorEventContext {
  handled: boolean;
  command: StoredCommand | null;
}

const FINAL_STATES: readonly string[] = [COMMAND_STATES.succeeded, COMMAND_STATES.failed, COMMAND_STATES.failedRetryable];

/**
 * The states of a command not yet ended: few at any time, whereas the final states hold the ledger's
 * whole history. The partial index vendor_commands_in_progress_idx holds exactly these (its predicate
 * must name the same states), so the awaiting sweep and the vendor_commands gauge read only them.
 */
export const IN_PROGRESS_STATES = [COMMAND_STATES.calling, COMMAND_STATES.retrying, COMMAND_STATES.awaitingVendorEvent] as const;

/** vendor_commands' columns under the names of StoredCommand, so a row needs no mapping. */
const COMMAND_COLUMNS = `command_id AS "commandId", vendor, request_id AS "requestId", card_id AS "cardId", operation, state,
  correlation_id AS "correlationId", attempts, vendor_status AS "vendorStatus", details, outcome_event AS "outcomeEvent",
  outcome_published_at AS "outcomePublishedAt", dead_lettered_at AS "deadLetteredAt", trace_context AS "traceContext", created_at AS "createdAt", updated_at AS "updatedAt"`;

const { calling, retrying, awaitingVendorEvent, failed, failedRetryable } = COMMAND_STATES;
const FINAL_STATE_LIST = FINAL_STATES.map((state) => `'${state}'`).join(', ');
const IN_PROGRESS_STATE_LIST = IN_PROGRESS_STATES.map((state) => `'${state}'`).join(', ');

/**
 * Locks the rows of the commands in $1 in command id order, all of them before the update that
 * follows changes any. The ledger's updates run concurrently (each batch of its own, and other
 * replicas' too), each over several commands: without one order, a batch moving commands to
 * AWAITING_VENDOR_EVENT and a batch settling them by vendor event took two rows in opposite orders,
 * and PostgreSQL broke the deadlock after deadlock_timeout (1 s) by failing one of them, which
 * showed as 1–2 s tails in the benchmark's accept-to-audit latency. The InitPlan (`SELECT count(*)
 * FROM locked`) is evaluated once before the update reads its first row, so every lock is taken, in
 * order, first.
 *
 * Each row is found by one probe of the primary key (OFFSET 0 keeps the subquery a per-id probe), and
 * its vendor and state are checked on the locked row, never in an index condition: the updates reach
 * their rows only by joining `locked`, and the lock keeps the row as it was read until the update.
 * With the conditions on vendor_commands itself, statistics made while the table was small (a new
 * database, until autovacuum's next analyze) had PostgreSQL walk the (vendor, state, updated_at) index,
 * by its vendor prefix or, for a batch of 200, by `state = 'CALLING'` over the whole index: every
 * command, on every call (8.3 M index entries read in a 40 s benchmark).
 */
const LOCKED_IN_ORDER = `WITH locked AS MATERIALIZED (
    SELECT command.command_id, command.state, command.attempts FROM (SELECT DISTINCT wanted.command_id FROM unnest($1::uuid[]) AS wanted (command_id) ORDER BY wanted.command_id) wanted
    CROSS JOIN LATERAL (SELECT command_id, vendor, state, attempts FROM vendor_commands WHERE vendor_commands.command_id = wanted.command_id OFFSET 0 FOR UPDATE) command
    WHERE command.vendor = $2)`;
const ALL_LOCKED = '(SELECT count(*) FROM locked) >= 0';

/**
 * The statements every command or vendor event runs, prepared once per connection: their plans reach
 * vendor_commands by primary key only, whatever statistics they were made with (see LOCKED_IN_ORDER;
 * command-ledger.int-spec.ts checks plans made on an empty table's). $1 and $2 are always the command
 * (or event) ids and the vendor. Each takes arrays, one element per command (or event), so that the
 * commands and events a worker has in hand at once share a round trip (see {@link Coalescer}); an
 * update names the commands it moved. A move to CALLING counts the call it is for in the same
 * statement, so a CALLING row with no call counted is one no call was made for.
 */
export const LEDGER_STATEMENTS = {
  // The commands already known are read by one primary-key probe each (OFFSET 0), their vendor checked
  // on the row found, whatever plan the table's statistics would give `command_id = ANY($1)` (see
  // LOCKED_IN_ORDER and vendorEventContext).
  claim: {
    name: 'vendor-commands-claim',
    text: `WITH claimed AS (
        INSERT INTO vendor_commands (command_id, vendor, request_id, card_id, operation, state, correlation_id, attempts, details, trace_context, updated_at)
        SELECT input.command_id, $2, input.request_id, input.card_id, input.operation, '${calling}', input.command_id::text, 1, input.details::jsonb, input.trace_context::jsonb, now()
        FROM unnest($1::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[]) AS input (command_id, request_id, card_id, operation, details, trace_context)
        ON CONFLICT (command_id) DO NOTHING
        RETURNING ${COMMAND_COLUMNS})
      SELECT true AS claimed, * FROM claimed
      UNION ALL
      SELECT false, known.* FROM unnest($1::uuid[]) AS wanted (command_id)
      JOIN LATERAL (SELECT ${COMMAND_COLUMNS} FROM vendor_commands WHERE vendor_commands.command_id = wanted.command_id OFFSET 0) known ON known.vendor = $2
      WHERE wanted.command_id NOT IN (SELECT "commandId" FROM claimed)`,
  },
  resumeCalling: {
    name: 'vendor-commands-resume-calling',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET state = '${calling}', attempts = vendor_commands.attempts + 1, updated_at = now()
      FROM locked
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id AND (locked.state = '${retrying}' OR (locked.state = '${calling}' AND locked.attempts = 0))
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  retrying: {
    name: 'vendor-commands-retrying',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET state = '${retrying}', vendor_status = input.vendor_status, updated_at = now()
      FROM locked JOIN unnest($1::uuid[], $3::integer[]) AS input (command_id, vendor_status) ON input.command_id = locked.command_id
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id AND locked.state = '${calling}'
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  awaitVendorEvent: {
    name: 'vendor-commands-await-vendor-event',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET state = '${awaitingVendorEvent}', vendor_status = input.vendor_status, correlation_id = input.correlation_id, updated_at = now()
      FROM locked JOIN unnest($1::uuid[], $3::integer[], $4::text[]) AS input (command_id, vendor_status, correlation_id) ON input.command_id = locked.command_id
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id AND locked.state = '${calling}'
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  finishCall: {
    name: 'vendor-commands-finish-call',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET state = input.state, outcome_event = input.event::jsonb, vendor_status = COALESCE(input.vendor_status, vendor_commands.vendor_status), updated_at = now()
      FROM locked JOIN unnest($1::uuid[], $3::text[], $4::text[], $5::integer[]) AS input (command_id, state, event, vendor_status) ON input.command_id = locked.command_id
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id AND locked.state = '${calling}'
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  markPublished: {
    name: 'vendor-commands-mark-published',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET outcome_published_at = now(), updated_at = now()
      FROM locked
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  settleByVendorEvent: {
    name: 'vendor-commands-settle-by-vendor-event',
    text: `${LOCKED_IN_ORDER}
      UPDATE vendor_commands SET state = input.state, outcome_event = input.event::jsonb, outcome_published_at = now(), updated_at = now()
      FROM locked JOIN unnest($1::uuid[], $3::text[], $4::text[], $5::text[]) AS input (command_id, state, event, event_id) ON input.command_id = locked.command_id
      WHERE ${ALL_LOCKED} AND vendor_commands.command_id = locked.command_id
        AND (locked.state NOT IN (${FINAL_STATE_LIST}) OR outcome_event->>'id' = input.event_id)
      RETURNING vendor_commands.command_id AS "commandId"`,
  },
  vendorEventContext: {
    name: 'vendor-event-context',
    // One probe of the receipts' primary key per event, whatever the table's statistics say. As an EXISTS
    // in the select list (or a plain lateral join, which PostgreSQL flattens), a table whose statistics
    // still call it small (a new database, before autovacuum's next analyze) was planned as a hash of
    // every receipt of the vendor, read again on every call: 7 ms a call at 2,500 receipts, and most of
    // PostgreSQL's CPU in the benchmark. OFFSET 0 keeps the subquery a per-row index probe.
    text: `SELECT receipt.handled IS NOT NULL AS handled, ${COMMAND_COLUMNS}
      FROM unnest($1::text[], $3::text[]) WITH ORDINALITY AS input (input_event_id, input_correlation_id, input_position)
      LEFT JOIN LATERAL (SELECT true AS handled FROM vendor_event_receipts WHERE vendor_event_receipts.vendor = $2 AND vendor_event_receipts.event_id = input.input_event_id OFFSET 0) receipt ON true
      LEFT JOIN LATERAL (SELECT * FROM vendor_commands WHERE vendor_commands.vendor = $2 AND vendor_commands.correlation_id = input.input_correlation_id OFFSET 0) vendor_commands ON true
      ORDER BY input.input_position`,
  },
  recordVendorEvent: {
    name: 'vendor-event-receipts-record',
    text: `INSERT INTO vendor_event_receipts (event_id, vendor, event_type) SELECT input.event_id, $2, input.event_type
      FROM unnest($1::text[], $3::text[]) AS input (event_id, event_type) ON CONFLICT DO NOTHING`,
  },
} as const;

/**
 * The statements of the rarer turns (replays, sweeps, dead letters, look-ups), one command at a
 * time; $1 is always the vendor. Every update sets updated_at, which the sweeps go by.
 */
export const ONE_COMMAND_STATEMENTS = {
  find: {
    name: 'vendor-commands-find',
    text: `SELECT ${COMMAND_COLUMNS} FROM vendor_commands WHERE vendor = $1 AND command_id = $2::uuid`,
  },
  findByCorrelationId: {
    name: 'vendor-commands-find-by-correlation-id',
    text: `SELECT ${COMMAND_COLUMNS} FROM vendor_commands WHERE vendor = $1 AND correlation_id = $2`,
  },
  recordWithoutCall: {
    name: 'vendor-commands-record-without-call',
    text: `INSERT INTO vendor_commands (command_id, vendor, request_id, card_id, operation, state, outcome_event, updated_at)
      VALUES ($2::uuid, $1, $3::uuid, $4, $5, '${failedRetryable}', $6::jsonb, now())
      ON CONFLICT DO NOTHING`,
  },
  reclaim: {
    name: 'vendor-commands-reclaim',
    text: `UPDATE vendor_commands SET state = '${calling}', attempts = attempts + 1, correlation_id = command_id::text, details = COALESCE($3::jsonb, details), trace_context = $4::jsonb,
        vendor_status = NULL, outcome_event = NULL, outcome_published_at = NULL, updated_at = now()
      WHERE vendor = $1 AND command_id = $2::uuid AND state = '${failedRetryable}'`,
  },
  hasLaterCommand: {
    name: 'vendor-commands-has-later-command',
    text: 'SELECT EXISTS (SELECT FROM vendor_commands WHERE vendor = $1 AND card_id = $2 AND created_at > $3) AS "later"',
  },
  countInProgress: {
    name: 'vendor-commands-count-in-progress',
    text: `SELECT state, count(*)::int AS count FROM vendor_commands WHERE vendor = $1 AND state IN (${IN_PROGRESS_STATE_LIST}) GROUP BY state`,
  },
  awaitingSince: {
    name: 'vendor-commands-awaiting-since',
    text: `SELECT ${COMMAND_COLUMNS} FROM vendor_commands WHERE vendor = $1 AND state = '${awaitingVendorEvent}' AND updated_at < $2
      ORDER BY updated_at LIMIT $3`,
  },
  unpublishedSince: {
    name: 'vendor-commands-unpublished-since',
    text: `SELECT ${COMMAND_COLUMNS} FROM vendor_commands
      WHERE vendor = $1 AND state IN (${FINAL_STATE_LIST}) AND outcome_event IS NOT NULL AND outcome_published_at IS NULL AND updated_at < $2
      ORDER BY updated_at LIMIT $3`,
  },
  stopAwaiting: {
    name: 'vendor-commands-stop-awaiting',
    text: `UPDATE vendor_commands SET state = '${failed}', outcome_event = $3::jsonb, updated_at = now()
      WHERE vendor = $1 AND command_id = $2::uuid AND state = '${awaitingVendorEvent}'`,
  },
  markDeadLettered: {
    name: 'vendor-commands-mark-dead-lettered',
    text: 'UPDATE vendor_commands SET dead_lettered_at = now(), updated_at = now() WHERE vendor = $1 AND command_id = $2::uuid',
  },
} as const;

/** Commands and events in hand at once share a statement: at most this many each. */
const MAX_BATCH = 256;

type StatementName = keyof typeof LEDGER_STATEMENTS;
type OneCommandStatementName = keyof typeof ONE_COMMAND_STATEMENTS;
type ClaimRow = { claimed: boolean } & StoredCommand;
type VendorEventContextRow = { handled: boolean } & ({ commandId: null } | StoredCommand);

/**
 * One vendor's rows of vendor_commands and vendor_event_receipts. Every state change is conditional
 * on the state it leaves, so the command consumer and the vendor's events, which race for the same
 * row, never undo each other. Every statement goes to the pool, prepared: a worker never loads the
 * Prisma client (see SqlPool).
 */
export class CommandLedger {
  private readonly claims = new Coalescer<{ command: CommandRef; details?: CommandDetails; traceContext: TraceHeaders }, ClaimRow | undefined>(
    async (inputs) => {
      const rows = await this.run<ClaimRow>('claim', [
        inputs.map(({ command }) => command.commandId),
        inputs.map(({ command }) => command.requestId),
        inputs.map(({ command }) => command.cardId),
        inputs.map(({ command }) => command.operation),
        inputs.map(({ details }) => (details === undefined ? null : JSON.stringify(details))),
        inputs.map(({ traceContext }) => storedTrace(traceContext)),
      ]);
      const byCommand = new Map(rows.map((row) => [row.commandId, row]));
      return inputs.map(({ command }) => byCommand.get(command.commandId));
    },
    { maxBatch: MAX_BATCH, keyOf: ({ command }) => command.commandId },
  );

  private readonly resumptions = this.mover<string>('resumeCalling', (commandIds) => [commandIds], (commandId) => commandId);

  private readonly retries = this.mover<{ commandId: string; vendorStatus: number | null }>('retrying', (inputs) => [
    inputs.map((input) => input.commandId),
    inputs.map((input) => input.vendorStatus),
  ]);

  private readonly awaits = this.mover<{ commandId: string; vendorStatus: number | null; correlationId: string }>('awaitVendorEvent', (inputs) => [
    inputs.map((input) => input.commandId),
    inputs.map((input) => input.vendorStatus),
    inputs.map((input) => input.correlationId),
  ]);

  private readonly finishes = this.mover<{ commandId: string; state: FinalState; event: PinflowEvent; vendorStatus: number | null }>('finishCall', (inputs) => [
    inputs.map((input) => input.commandId),
    inputs.map((input) => input.state),
    inputs.map((input) => JSON.stringify(input.event)),
    inputs.map((input) => input.vendorStatus),
  ]);

  private readonly publications = this.mover<string>('markPublished', (commandIds) => [commandIds], (commandId) => commandId);

  private readonly settlements = this.mover<{ commandId: string; settles: FinalState; event: PinflowEvent }>('settleByVendorEvent', (inputs) => [
    inputs.map((input) => input.commandId),
    inputs.map((input) => input.settles),
    inputs.map((input) => JSON.stringify(input.event)),
    inputs.map((input) => input.event.id),
  ]);

  private readonly eventContexts = new Coalescer<{ eventId: string; correlationId: string | null }, VendorEventContextRow>(
    (inputs) => this.run<VendorEventContextRow>('vendorEventContext', [inputs.map((input) => input.eventId), inputs.map((input) => input.correlationId)]),
    { maxBatch: MAX_BATCH },
  );

  private readonly receipts = new Coalescer<{ eventId: string; eventType: string }, void>(
    async (inputs) => {
      await this.run('recordVendorEvent', [inputs.map((input) => input.eventId), inputs.map((input) => input.eventType)]);
      return inputs.map(() => undefined);
    },
    { maxBatch: MAX_BATCH, keyOf: (input) => input.eventId },
  );

  constructor(
    private readonly pool: SqlPool,
    readonly vendor: Vendor,
  ) {}

  /** How many of the vendor's commands are in each state not yet ended (0 for a state none is in), for the vendor_commands gauge. */
  async countInProgress(): Promise<{ labels: { vendor: Vendor; state: string }; value: number }[]> {
    const { rows } = await this.runOne<{ state: string; count: number }>('countInProgress', []);
    const counts = new Map(rows.map(({ state, count }) => [state, count]));
    return IN_PROGRESS_STATES.map((state) => ({ labels: { vendor: this.vendor, state }, value: counts.get(state) ?? 0 }));
  }

  async find(commandId: string): Promise<StoredCommand | null> {
    const { rows } = await this.runOne<StoredCommand>('find', [commandId]);
    return rows[0] ?? null;
  }

  async findByCorrelationId(correlationId: string): Promise<StoredCommand | null> {
    const { rows } = await this.runOne<StoredCommand>('findByCorrelationId', [correlationId]);
    return rows[0] ?? null;
  }

  /**
   * Records a new command CALLING, its first call counted, before that call, with the command id as
   * correlation id (the id workers send as the vendor's correlation header), so that a vendor event
   * overtaking the HTTP answer still finds it. A known command comes back as it stands, unchanged.
   * `traceContext` is the trace the command is handled in (empty when not tracing): a vendor's event
   * echoes only the correlation id, so its handling resumes this trace (see inCommandTrace). Kept
   * from the claim on, since the event may overtake the call's answer.
   */
  async claim(command: CommandRef, traceContext: TraceHeaders, details?: CommandDetails): Promise<Claim> {
    const { commandId } = command;
    const row = await this.claims.submit({ command, details, traceContext });
    if (row) {
      const { claimed, ...known } = row;
      return claimed ? { claimed: true } : { claimed: false, known };
    }
    // Another delivery inserted it while this statement ran, too late for the statement to see it.
    const known = await this.find(commandId);
    if (!known) throw new Error(`command ${commandId} could neither be claimed nor found in vendor_commands`);
    return { claimed: false, known };
  }

  /**
   * Records a command that ends without a call to the vendor; since the vendor never saw it, a replay
   * may run it again (FAILED_RETRYABLE). False when the command is known.
   */
  async recordWithoutCall(command: CommandRef, event: PinflowEvent): Promise<boolean> {
    const { commandId, requestId, cardId, operation } = command;
    const { rowCount } = await this.runOne('recordWithoutCall', [commandId, requestId, cardId, operation, JSON.stringify(event)]);
    return rowCount === 1;
  }

  /** The vendor surely did not apply the call that just failed: CALLING → RETRYING. False when the command is no longer CALLING. */
  async retrying(commandId: string, vendorStatus: number | undefined): Promise<boolean> {
    return this.retries.submit({ commandId, vendorStatus: vendorStatus ?? null });
  }

  /**
   * Before the next call: RETRYING → CALLING, the call counted. A command CALLING with no call counted
   * goes on alike, since none was made for it. False when another delivery of the command took it over.
   */
  resumeCalling(commandId: string): Promise<boolean> {
    return this.resumptions.submit(commandId);
  }

  /**
   * A replayed command the vendor never applied starts over: FAILED_RETRYABLE → CALLING, the call
   * counted, its old outcome dropped so that the new one gets published. False when it is no longer
   * FAILED_RETRYABLE. The replay's trace (`traceContext`) is the one its vendor's event resumes.
   */
  async reclaim(commandId: string, traceContext: TraceHeaders, details?: CommandDetails): Promise<boolean> {
    const { rowCount } = await this.runOne('reclaim', [commandId, details === undefined ? null : JSON.stringify(details), storedTrace(traceContext)]);
    return rowCount === 1;
  }

  /** Whether the card got a command after this one: running this one again would undo the later one. */
  async hasLaterCommand(command: StoredCommand): Promise<boolean> {
    const { rows } = await this.runOne<{ later: boolean }>('hasLaterCommand', [command.cardId, command.createdAt]);
    return rows[0].later;
  }

  /**
   * The vendor's event will tell how the command ended: it accepted the command, or its answer was
   * lost but its event would still come. False when that event already settled the command.
   */
  awaitVendorEvent(commandId: string, vendorStatus: number | undefined, correlationId: string): Promise<boolean> {
    return this.awaits.submit({ commandId, vendorStatus: vendorStatus ?? null, correlationId });
  }

  /** Commands whose vendor event has been due since before `cutoff`, oldest first. */
  async awaitingSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return (await this.runOne<StoredCommand>('awaitingSince', [cutoff, limit])).rows;
  }

  /** Outcomes recorded before `cutoff` whose publication was cut short (a crash in between). */
  async unpublishedSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return (await this.runOne<StoredCommand>('unpublishedSince', [cutoff, limit])).rows;
  }

  /** The vendor's event did not come in time: AWAITING_VENDOR_EVENT → FAILED. False when it came meanwhile. */
  async stopAwaiting(commandId: string, event: PinflowEvent): Promise<boolean> {
    const { rowCount } = await this.runOne('stopAwaiting', [commandId, JSON.stringify(event)]);
    return rowCount === 1;
  }

  /**
   * A vendor event ends the command with `event`, unless the command has ended already: true when it
   * is not final yet, or when `event` is the outcome it ended with (a redelivery of the same event).
   * Publishing it is the vendor event's delivery's to do (until its receipt is recorded, a redelivery
   * publishes it again), so neither a redelivered command nor the sweep republishes it.
   */
  settleByVendorEvent(commandId: string, settles: FinalState, event: PinflowEvent): Promise<boolean> {
    return this.settlements.submit({ commandId, settles, event });
  }

  /** Ends a command that is CALLING, storing the event to publish; false when it is no longer CALLING. */
  finishCall(commandId: string, state: FinalState, event: PinflowEvent, vendorStatus?: number): Promise<boolean> {
    return this.finishes.submit({ commandId, state, event, vendorStatus: vendorStatus ?? null });
  }

  async markPublished(commandId: string): Promise<void> {
    await this.publications.submit(commandId);
  }

  /** Whether the vendor event was handled already, and the command its correlation id names, in one round trip. */
  async vendorEventContext(eventId: string, correlationId: string | null | undefined): Promise<VendorEventContext> {
    const { handled, ...command } = await this.eventContexts.submit({ eventId, correlationId: correlationId ?? null });
    return { handled, command: command.commandId === null ? null : command };
  }

  /** Notes a vendor event as handled (published): its redeliveries are skipped. */
  async recordVendorEvent(eventId: string, eventType: string): Promise<void> {
    await this.receipts.submit({ eventId, eventType });
  }

  /** The command's dead letter is on the dead-letter topic: a redelivery must not park it again. */
  async markDeadLettered(commandId: string): Promise<void> {
    const { rowCount } = await this.runOne('markDeadLettered', [commandId]);
    if (rowCount !== 1) throw new Error(`command ${commandId} is not in vendor_commands`);
  }

  /** Runs a statement for a batch; $1 is the batch's first array and $2 the vendor, as in every statement. */
  private async run<R extends object = object>(statement: StatementName, [ids, ...arrays]: unknown[][]): Promise<R[]> {
    const { rows } = await this.pool.query<R>({ ...LEDGER_STATEMENTS[statement], values: [ids, this.vendor, ...arrays] });
    return rows;
  }

  /** Runs a statement about one command; $1 is the vendor, as in every such statement. */
  private runOne<R extends object = object>(statement: OneCommandStatementName, values: unknown[]): Promise<QueryResult<R>> {
    return this.pool.query<R>({ ...ONE_COMMAND_STATEMENTS[statement], values: [this.vendor, ...values] });
  }

  /** Batches a conditional update: each command answers whether the statement moved it. */
  private mover<Input>(statement: StatementName, arrays: (inputs: Input[]) => unknown[][], commandIdOf = (input: Input) => (input as { commandId: string }).commandId): Coalescer<Input, boolean> {
    return new Coalescer<Input, boolean>(
      async (inputs) => {
        const moved = new Set((await this.run<{ commandId: string }>(statement, arrays(inputs))).map((row) => row.commandId));
        return inputs.map((input) => moved.has(commandIdOf(input)));
      },
      { maxBatch: MAX_BATCH, keyOf: commandIdOf },
    );
  }
}

const storedTraceContext = z.record(z.string(), z.string());

/** A trace context as trace_context stores it: null when not tracing. */
function storedTrace(traceContext: TraceHeaders): string | null {
  return Object.keys(traceContext).length === 0 ? null : JSON.stringify(traceContext);
}

/** The trace context stored with a command, if it was traced (see awaitVendorEvent). */
export function traceContextOf(command: StoredCommand): TraceHeaders | undefined {
  const parsed = storedTraceContext.safeParse(command.traceContext);
  return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
}

/**
 * Runs `work` (which ends a command awaiting its vendor's event) in a span of the trace the command
 * was handled in, linked to the trace in hand (the vendor event's own message): so the outcome it
 * publishes travels in the request's trace. Without a stored trace, a span of the trace in hand.
 */
export function inCommandTrace<T>(name: string, command: StoredCommand | null, work: () => Promise<T>): Promise<T> {
  const stored = command ? traceContextOf(command) : undefined;
  return inSpan(name, { kind: SpanKind.INTERNAL, ...(stored ? { parent: stored, links: [traceHeaders()] } : {}) }, work);
}

export function isFinal(command: StoredCommand): boolean {
  return FINAL_STATES.includes(command.state);
}

/**
 * No call of the command may be in flight or applied since its last failed one, so the next call is
 * safe: it is between retries, or CALLING with no call counted (claimed, and stopped before calling).
 */
export function isBetweenCalls(command: StoredCommand): boolean {
  return command.state === COMMAND_STATES.retrying || (command.state === COMMAND_STATES.calling && command.attempts === 0);
}
