import type { PinflowEvent, Vendor } from '@pinflow/contracts';
import { Prisma, PrismaClient, SqlPool } from '@pinflow/db';
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

function asJson(event: PinflowEvent): Prisma.InputJsonValue {
  return event as unknown as Prisma.InputJsonValue;
}

/** vendor_commands' columns under the names of StoredCommand, so a row needs no mapping. */
const COMMAND_COLUMNS = `command_id AS "commandId", vendor, request_id AS "requestId", card_id AS "cardId", operation, state,
  correlation_id AS "correlationId", attempts, vendor_status AS "vendorStatus", details, outcome_event AS "outcomeEvent",
  outcome_published_at AS "outcomePublishedAt", dead_lettered_at AS "deadLetteredAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

const { calling, retrying, awaitingVendorEvent } = COMMAND_STATES;

/**
 * The statements every command or vendor event runs, prepared once per connection. $1 and $2 are
 * always the command (or event) id and the vendor. A move to CALLING counts the call it is for in the
 * same statement, so a CALLING row with no call counted is one no call was made for.
 */
const STATEMENTS = {
  claim: {
    name: 'vendor-commands-claim',
    text: `WITH claimed AS (
        INSERT INTO vendor_commands (command_id, vendor, request_id, card_id, operation, state, correlation_id, attempts, details, updated_at)
        VALUES ($1, $2, $3, $4, $5, '${calling}', $6, 1, $7::jsonb, now())
        ON CONFLICT (command_id) DO NOTHING
        RETURNING ${COMMAND_COLUMNS})
      SELECT true AS claimed, * FROM claimed
      UNION ALL
      SELECT false, ${COMMAND_COLUMNS} FROM vendor_commands WHERE command_id = $1 AND vendor = $2 AND NOT EXISTS (SELECT FROM claimed)`,
  },
  resumeCalling: {
    name: 'vendor-commands-resume-calling',
    text: `UPDATE vendor_commands SET state = '${calling}', attempts = attempts + 1, updated_at = now()
      WHERE command_id = $1 AND vendor = $2 AND (state = '${retrying}' OR (state = '${calling}' AND attempts = 0))`,
  },
  retrying: {
    name: 'vendor-commands-retrying',
    text: `UPDATE vendor_commands SET state = '${retrying}', vendor_status = $3, updated_at = now()
      WHERE command_id = $1 AND vendor = $2 AND state = '${calling}'`,
  },
  awaitVendorEvent: {
    name: 'vendor-commands-await-vendor-event',
    text: `UPDATE vendor_commands SET state = '${awaitingVendorEvent}', vendor_status = $3, correlation_id = $4, updated_at = now()
      WHERE command_id = $1 AND vendor = $2 AND state = '${calling}'`,
  },
  finishCall: {
    name: 'vendor-commands-finish-call',
    text: `UPDATE vendor_commands SET state = $3, outcome_event = $4::jsonb, vendor_status = COALESCE($5::integer, vendor_status), updated_at = now()
      WHERE command_id = $1 AND vendor = $2 AND state = '${calling}'`,
  },
  markPublished: {
    name: 'vendor-commands-mark-published',
    text: `UPDATE vendor_commands SET outcome_published_at = now(), updated_at = now() WHERE command_id = $1 AND vendor = $2`,
  },
  settleByVendorEvent: {
    name: 'vendor-commands-settle-by-vendor-event',
    text: `UPDATE vendor_commands SET state = $3, outcome_event = $4::jsonb, outcome_published_at = now(), updated_at = now()
      WHERE command_id = $1 AND vendor = $2 AND (state NOT IN (${FINAL_STATES.map((state) => `'${state}'`).join(', ')}) OR outcome_event->>'id' = $5)`,
  },
  vendorEventContext: {
    name: 'vendor-event-context',
    text: `SELECT EXISTS (SELECT FROM vendor_event_receipts WHERE event_id = $1 AND vendor = $2) AS handled, ${COMMAND_COLUMNS}
      FROM (VALUES (1)) AS always LEFT JOIN vendor_commands ON vendor = $2 AND correlation_id = $3`,
  },
  recordVendorEvent: {
    name: 'vendor-event-receipts-record',
    text: `INSERT INTO vendor_event_receipts (event_id, vendor, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
  },
} as const;

type StatementName = keyof typeof STATEMENTS;
type ClaimRow = { claimed: boolean } & StoredCommand;
type VendorEventContextRow = { handled: boolean } & ({ commandId: null } | StoredCommand);

/**
 * One vendor's rows of vendor_commands and vendor_event_receipts. Every state change is conditional
 * on the state it leaves, so the command consumer and the vendor's events, which race for the same
 * row, never undo each other. What every command runs goes to the pool as prepared statements (a
 * Prisma call pays its query compiler every time); the sweeps, replays and tests use Prisma.
 */
export class CommandLedger {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: SqlPool,
    readonly vendor: Vendor,
  ) {}

  /** How many of the vendor's commands are in each state, for the vendor_commands gauge. */
  async countByState(): Promise<{ labels: { vendor: Vendor; state: string }; value: number }[]> {
    const { rows } = await this.pool.query<{ state: string; count: number }>({
      name: 'vendor-commands-count-by-state',
      text: 'SELECT state, count(*)::int AS count FROM vendor_commands WHERE vendor = $1 GROUP BY state',
      values: [this.vendor],
    });
    return rows.map(({ state, count }) => ({ labels: { vendor: this.vendor, state }, value: count }));
  }

  find(commandId: string): Promise<StoredCommand | null> {
    return this.prisma.vendorCommand.findUnique({ where: { commandId, vendor: this.vendor } });
  }

  findByCorrelationId(correlationId: string): Promise<StoredCommand | null> {
    return this.prisma.vendorCommand.findUnique({ where: { vendor_correlationId: { vendor: this.vendor, correlationId } } });
  }

  /**
   * Records a new command CALLING, its first call counted, before that call, with the command id as
   * correlation id (the id workers send as the vendor's correlation header), so that a vendor event
   * overtaking the HTTP answer still finds it. A known command comes back as it stands, unchanged.
   */
  async claim(command: CommandRef, details?: CommandDetails): Promise<Claim> {
    const { commandId, requestId, cardId, operation } = command;
    const [row] = await this.run<ClaimRow>('claim', [commandId, this.vendor, requestId, cardId, operation, commandId, details ?? null]);
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
    const { count } = await this.prisma.vendorCommand.createMany({
      data: [{ ...this.row(command), state: COMMAND_STATES.failedRetryable, outcomeEvent: asJson(event) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** The vendor surely did not apply the call that just failed: CALLING → RETRYING. False when the command is no longer CALLING. */
  async retrying(commandId: string, vendorStatus: number | undefined): Promise<boolean> {
    return this.moved('retrying', [commandId, this.vendor, vendorStatus ?? null]);
  }

  /**
   * Before the next call: RETRYING → CALLING, the call counted. A command CALLING with no call counted
   * goes on alike, since none was made for it. False when another delivery of the command took it over.
   */
  resumeCalling(commandId: string): Promise<boolean> {
    return this.moved('resumeCalling', [commandId, this.vendor]);
  }

  /**
   * A replayed command the vendor never applied starts over: FAILED_RETRYABLE → CALLING, the call
   * counted, its old outcome dropped so that the new one gets published. False when it is no longer
   * FAILED_RETRYABLE.
   */
  async reclaim(commandId: string, details?: CommandDetails): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({
      where: { commandId, vendor: this.vendor, state: COMMAND_STATES.failedRetryable },
      data: {
        state: COMMAND_STATES.calling,
        attempts: { increment: 1 },
        correlationId: commandId,
        details,
        vendorStatus: null,
        outcomeEvent: Prisma.DbNull,
        outcomePublishedAt: null,
      },
    });
    return count === 1;
  }

  /** Whether the card got a command after this one: running this one again would undo the later one. */
  async hasLaterCommand(command: StoredCommand): Promise<boolean> {
    const later = await this.prisma.vendorCommand.count({ where: { vendor: this.vendor, cardId: command.cardId, createdAt: { gt: command.createdAt } } });
    return later > 0;
  }

  /**
   * The vendor's event will tell how the command ended: it accepted the command, or its answer was
   * lost but its event would still come. False when that event already settled the command.
   */
  awaitVendorEvent(commandId: string, vendorStatus: number | undefined, correlationId: string): Promise<boolean> {
    return this.moved('awaitVendorEvent', [commandId, this.vendor, vendorStatus ?? null, correlationId]);
  }

  /** Commands whose vendor event has been due since before `cutoff`, oldest first. */
  awaitingSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return this.prisma.vendorCommand.findMany({
      where: { vendor: this.vendor, state: COMMAND_STATES.awaitingVendorEvent, updatedAt: { lt: cutoff } },
      orderBy: { updatedAt: 'asc' },
      take: limit,
    });
  }

  /** Outcomes recorded before `cutoff` whose publication was cut short (a crash in between). */
  unpublishedSince(cutoff: Date, limit: number): Promise<StoredCommand[]> {
    return this.prisma.vendorCommand.findMany({
      where: { vendor: this.vendor, state: { in: [...FINAL_STATES] }, outcomeEvent: { not: Prisma.DbNull }, outcomePublishedAt: null, updatedAt: { lt: cutoff } },
      orderBy: { updatedAt: 'asc' },
      take: limit,
    });
  }

  /** The vendor's event did not come in time: AWAITING_VENDOR_EVENT → FAILED. False when it came meanwhile. */
  async stopAwaiting(commandId: string, event: PinflowEvent): Promise<boolean> {
    const { count } = await this.prisma.vendorCommand.updateMany({
      where: { commandId, vendor: this.vendor, state: COMMAND_STATES.awaitingVendorEvent },
      data: { state: COMMAND_STATES.failed, outcomeEvent: asJson(event) },
    });
    return count === 1;
  }

  /**
   * A vendor event ends the command with `event`, unless the command has ended already: true when it
   * is not final yet, or when `event` is the outcome it ended with (a redelivery of the same event).
   * Publishing it is the vendor event's delivery's to do (until its receipt is recorded, a redelivery
   * publishes it again), so neither a redelivered command nor the sweep republishes it.
   */
  settleByVendorEvent(commandId: string, settles: FinalState, event: PinflowEvent): Promise<boolean> {
    return this.moved('settleByVendorEvent', [commandId, this.vendor, settles, event, event.id]);
  }

  /** Ends a command that is CALLING, storing the event to publish; false when it is no longer CALLING. */
  finishCall(commandId: string, state: FinalState, event: PinflowEvent, vendorStatus?: number): Promise<boolean> {
    return this.moved('finishCall', [commandId, this.vendor, state, event, vendorStatus ?? null]);
  }

  async markPublished(commandId: string): Promise<void> {
    await this.run('markPublished', [commandId, this.vendor]);
  }

  /** Whether the vendor event was handled already, and the command its correlation id names, in one round trip. */
  async vendorEventContext(eventId: string, correlationId: string | null | undefined): Promise<VendorEventContext> {
    const [{ handled, ...command }] = await this.run<VendorEventContextRow>('vendorEventContext', [eventId, this.vendor, correlationId ?? null]);
    return { handled, command: command.commandId === null ? null : command };
  }

  /** Notes a vendor event as handled (published): its redeliveries are skipped. */
  async recordVendorEvent(eventId: string, eventType: string): Promise<void> {
    await this.run('recordVendorEvent', [eventId, this.vendor, eventType]);
  }

  /** The command's dead letter is on the dead-letter topic: a redelivery must not park it again. */
  async markDeadLettered(commandId: string): Promise<void> {
    await this.prisma.vendorCommand.update({ where: { commandId, vendor: this.vendor }, data: { deadLetteredAt: new Date() } });
  }

  private async run<R extends object = object>(statement: StatementName, values: unknown[]): Promise<R[]> {
    const { rows } = await this.pool.query<R>({ ...STATEMENTS[statement], values });
    return rows;
  }

  private async moved(statement: StatementName, values: unknown[]): Promise<boolean> {
    const { rowCount } = await this.pool.query({ ...STATEMENTS[statement], values });
    return rowCount === 1;
  }

  private row(command: CommandRef) {
    return { commandId: command.commandId, vendor: this.vendor, requestId: command.requestId, cardId: command.cardId, operation: command.operation };
  }
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
