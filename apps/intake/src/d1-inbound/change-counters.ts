import { Injectable } from '@nestjs/common';
import { EVENT_TYPES, PinflowEvent, requestStatusOf, type Vendor } from '@pinflow/contracts';
import { SqlPool } from '@pinflow/sql';
import { D1Error } from './d1-errors';

/** A card's counter as the table keeps it; a card without a row is at 0 with nothing in flight. */
const CURRENT = 'SELECT change_counter FROM d1_pin_change_counters WHERE issuer_id = $1 AND card_id = $2';

/**
 * How long a claim whose command intake never recorded (the process died between the claim and the
 * commit, which takes milliseconds) keeps its card. Past it, the next push may take the card over.
 */
const ABANDONED_CLAIM_AFTER = "interval '5 minutes'";

/** A card no push holds: none in flight, or the one in flight was never recorded and has been abandoned. */
const FREE = `(d1_pin_change_counters.in_flight_command_id IS NULL
  OR (d1_pin_change_counters.in_flight_since < now() - ${ABANDONED_CLAIM_AFTER}
    AND NOT EXISTS (SELECT FROM intake_requests WHERE intake_requests.command_id = d1_pin_change_counters.in_flight_command_id)))`;

// Compare-and-set: only a push computed with the current value, to a free card, claims it; so of two
// racing pushes with the same counter one wins and the other waits for its outcome.
const CLAIM_FIRST = `INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, in_flight_command_id, in_flight_since) VALUES ($1, $2, 0, $3, now())
  ON CONFLICT (issuer_id, card_id) DO UPDATE SET in_flight_command_id = $3, in_flight_since = now(), updated_at = now()
  WHERE d1_pin_change_counters.change_counter = 0 AND ${FREE} RETURNING 1`;
const CLAIM_NEXT = `UPDATE d1_pin_change_counters SET in_flight_command_id = $4, in_flight_since = now(), updated_at = now()
  WHERE issuer_id = $1 AND card_id = $2 AND change_counter = $3 AND ${FREE} RETURNING 1`;

// Both match the command in flight, and nothing once it has left: a redelivered outcome, or one of a
// command that is not a push, changes nothing.
const COMPLETE = `UPDATE d1_pin_change_counters SET change_counter = change_counter + 1, in_flight_command_id = NULL, in_flight_since = NULL, updated_at = now()
  WHERE in_flight_command_id = ANY($1::uuid[])`;
const FREE_CARD = `UPDATE d1_pin_change_counters SET in_flight_command_id = NULL, in_flight_since = NULL, updated_at = now()
  WHERE in_flight_command_id = ANY($1::uuid[])`;

// An operator's settlement of the card's push in flight, and its record, in one statement: the row lock
// taken on the card orders it with an outcome event settling the same push, of which only one wins.
const SETTLE_BY_OPERATOR = `WITH held AS (
    SELECT issuer_id, card_id FROM d1_pin_change_counters WHERE issuer_id = $1 AND card_id = $2 AND in_flight_command_id = $3 FOR UPDATE
  ), settled AS (
    UPDATE d1_pin_change_counters SET change_counter = change_counter + CASE WHEN $4 THEN 1 ELSE 0 END, in_flight_command_id = NULL, in_flight_since = NULL, updated_at = now()
    FROM held WHERE d1_pin_change_counters.issuer_id = held.issuer_id AND d1_pin_change_counters.card_id = held.card_id
    RETURNING d1_pin_change_counters.change_counter
  )
  INSERT INTO d1_pin_change_settlements (command_id, issuer_id, card_id, succeeded, change_counter, settled_by)
  SELECT $3, $1, $2, $4, change_counter, $5 FROM settled
  RETURNING succeeded, change_counter, settled_by, settled_at`;
const SETTLEMENT = `SELECT succeeded, change_counter, settled_by, settled_at FROM d1_pin_change_settlements WHERE issuer_id = $1 AND card_id = $2 AND command_id = $3`;
const IN_FLIGHT = 'SELECT in_flight_command_id FROM d1_pin_change_counters WHERE issuer_id = $1 AND card_id = $2';

/** An operator's settlement of a push whose outcome was unknown: what they found, and the counter it left. */
export interface PushSettlement {
  commandId: string;
  /** Whether the processor applied the change: the counter moved on by one, or stayed. */
  succeeded: boolean;
  changeCounter: number;
  settledBy: string;
  settledAt: string;
  /** Whether this settlement was made before, and the request only repeated it. */
  repeated: boolean;
}

interface SettlementRow {
  succeeded: boolean;
  change_counter: string;
  settled_by: string;
  settled_at: Date;
}

/** Why an operator's settlement was refused: the card holds no push, or holds another, or the push was settled the other way. */
export type SettlementRefusal =
  | { refused: 'NO_PUSH_IN_FLIGHT' }
  | { refused: 'ANOTHER_PUSH_IN_FLIGHT'; inFlightCommandId: string }
  | { refused: 'SETTLED_OTHERWISE'; settlement: PushSettlement };

export const staleChangeCounter = () => new D1Error(409, 'STALE_CHANGE_COUNTER', "The PIN block was computed with another change counter than the card's current one: read .../pin/changeCounter and compute the block again");
const changeInProgress = () => new D1Error(409, 'PIN_CHANGE_IN_PROGRESS', "The card's previous PIN change has no outcome yet: read .../pin/changeCounter again once it has, and compute the block with it");

/** What the outcomes in a batch of events decide for the commands they name. */
export interface PushOutcomes {
  /** Commands whose change the processor completed. */
  succeeded: string[];
  /** Commands the processor surely did not apply (any failure but OUTCOME_UNKNOWN), and that did not also succeed. */
  failed: string[];
}

/**
 * The final outcomes of commands to `vendors` among `events`, as intake's request status reads them:
 * a success outranks a failure. A failure of unknown outcome decides nothing: the PIN may have changed,
 * and a counter guessed either way would make D1's next PRW and MAC wrong, so the push stays in flight
 * until an operator who found the outcome out settles it (README, "Thales D1: the change counter follows
 * the outcome").
 */
export function pushOutcomesOf(events: readonly PinflowEvent[], vendors: ReadonlySet<Vendor>): PushOutcomes {
  const succeeded = new Set<string>();
  const failed = new Set<string>();
  for (const event of events) {
    const { commandId, vendor } = event.data;
    if (commandId === undefined || vendor === undefined || !vendors.has(vendor)) continue;
    if (requestStatusOf([event.type]) === 'succeeded') succeeded.add(commandId);
    else if (event.type === EVENT_TYPES.failed && event.data.reason !== 'OUTCOME_UNKNOWN') failed.add(commandId);
  }
  return { succeeded: [...succeeded], failed: [...failed].filter((commandId) => !succeeded.has(commandId)) };
}

/**
 * The Seccos PIN change counter of each card of the issuers pinflow serves (D1's `GET .../pin/changeCounter`:
 * "used to compute PRW and MAC"): the PIN changes the processor completed for D1's pushes. A 3DES_SECCOS
 * push must carry the current value, and a card has one push in flight at a time: its success moves the
 * counter on, its failure leaves it where it was. Were the counter moved at acceptance and given back on
 * failure, a second push accepted meanwhile would have been computed with a value the failure unmakes.
 */
@Injectable()
export class D1ChangeCounters {
  private readonly vendors: ReadonlySet<Vendor>;

  /** `vendors`: the processors D1's pushes are routed to, whose outcomes may settle a push. */
  constructor(
    private readonly pool: SqlPool,
    vendors: readonly Vendor[],
  ) {
    this.vendors = new Set(vendors);
  }

  async current(issuerId: string, cardId: string): Promise<number> {
    const { rows } = await this.pool.query<{ change_counter: string }>(CURRENT, [issuerId, cardId]);
    return rows.length === 0 ? 0 : Number(rows[0].change_counter);
  }

  /**
   * Puts the push of command `commandId`, computed with `counter`, in flight for the card; refuses any
   * other counter as stale (409 STALE_CHANGE_COUNTER), and the current one while another push is in
   * flight (409 PIN_CHANGE_IN_PROGRESS).
   */
  async claim(issuerId: string, cardId: string, counter: number, commandId: string): Promise<void> {
    const { rowCount } = counter === 0 ? await this.pool.query(CLAIM_FIRST, [issuerId, cardId, commandId]) : await this.pool.query(CLAIM_NEXT, [issuerId, cardId, counter, commandId]);
    if (rowCount === 1) return;
    throw (await this.current(issuerId, cardId)) === counter ? changeInProgress() : staleChangeCounter();
  }

  /** Frees the card of a push intake then refused or did not record: it changed no PIN. */
  async release(commandId: string): Promise<void> {
    await this.pool.query(FREE_CARD, [[commandId]]);
  }

  /**
   * Settles the pushes these events end (a batch of pinflow.events.v1, in order): a completed change
   * moves its card's counter on, a failed one frees the card. Idempotent: an outcome delivered again
   * finds its push no longer in flight.
   */
  async settle(events: readonly PinflowEvent[]): Promise<void> {
    if (this.vendors.size === 0) return;
    const { succeeded, failed } = pushOutcomesOf(events, this.vendors);
    if (succeeded.length > 0) await this.pool.query(COMPLETE, [succeeded]);
    if (failed.length > 0) await this.pool.query(FREE_CARD, [failed]);
  }

  /**
   * An operator's word on the push of `commandId` to the card, once they found out whether the processor
   * applied it: it did (`succeeded`, the counter moves on) or did not (it stays); either way the card is
   * free. The same settlement sent again is answered as before; anything else is refused, changing nothing.
   */
  async settleByOperator(issuerId: string, cardId: string, commandId: string, succeeded: boolean, operator: string): Promise<PushSettlement | SettlementRefusal> {
    const settled = await this.pool.query<SettlementRow>(SETTLE_BY_OPERATOR, [issuerId, cardId, commandId, succeeded, operator]);
    if (settled.rows.length === 1) return settlementOf(commandId, settled.rows[0], false);
    const earlier = await this.pool.query<SettlementRow>(SETTLEMENT, [issuerId, cardId, commandId]);
    if (earlier.rows.length === 1) {
      const settlement = settlementOf(commandId, earlier.rows[0], true);
      return settlement.succeeded === succeeded ? settlement : { refused: 'SETTLED_OTHERWISE', settlement };
    }
    const { rows } = await this.pool.query<{ in_flight_command_id: string | null }>(IN_FLIGHT, [issuerId, cardId]);
    const inFlightCommandId = rows[0]?.in_flight_command_id;
    return inFlightCommandId ? { refused: 'ANOTHER_PUSH_IN_FLIGHT', inFlightCommandId } : { refused: 'NO_PUSH_IN_FLIGHT' };
  }
}

function settlementOf(commandId: string, row: SettlementRow, repeated: boolean): PushSettlement {
  return { commandId, succeeded: row.succeeded, changeCounter: Number(row.change_counter), settledBy: row.settled_by, settledAt: row.settled_at.toISOString(), repeated };
}
