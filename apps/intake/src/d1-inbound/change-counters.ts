import { Injectable, Logger } from '@nestjs/common';
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
// racing pushes with the same counter one wins and the other waits for its outcome. The same statement
// records the push with that value, for its success to be counted however late it comes (SUCCEED); a
// push intake then refuses leaves an inert record, as no outcome ever names its command.
const recordingPush = (claim: string, commandId: string) => `WITH claimed AS (${claim} RETURNING issuer_id, card_id, change_counter)
  INSERT INTO d1_pin_pushes (command_id, issuer_id, card_id, change_counter) SELECT ${commandId}, issuer_id, card_id, change_counter FROM claimed RETURNING 1`;
const CLAIM_FIRST = recordingPush(
  `INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, in_flight_command_id, in_flight_since) VALUES ($1, $2, 0, $3, now())
  ON CONFLICT (issuer_id, card_id) DO UPDATE SET in_flight_command_id = $3, in_flight_since = now(), updated_at = now()
  WHERE d1_pin_change_counters.change_counter = 0 AND ${FREE}`,
  '$3::uuid',
);
const CLAIM_NEXT = recordingPush(
  `UPDATE d1_pin_change_counters SET in_flight_command_id = $4, in_flight_since = now(), updated_at = now()
  WHERE issuer_id = $1 AND card_id = $2 AND change_counter = $3 AND ${FREE}`,
  '$4::uuid',
);

/**
 * The pushes of the commands in `commandIds` (an SQL uuid[]) with the counter each was computed with. A
 * push claimed by an intake that did not record pushes yet (a rolling deploy) is known only while its
 * card holds it: with the card's counter, which its claim compared.
 */
const pushes = (commandIds: string) => `SELECT command_id, issuer_id, card_id, change_counter FROM d1_pin_pushes WHERE command_id = ANY(${commandIds})
  UNION ALL
  SELECT in_flight_command_id, issuer_id, card_id, change_counter FROM d1_pin_change_counters
  WHERE in_flight_command_id = ANY(${commandIds}) AND NOT EXISTS (SELECT FROM d1_pin_pushes WHERE d1_pin_pushes.command_id = d1_pin_change_counters.in_flight_command_id)`;

// The first success of each push (a later one, redelivered or after an operator's settlement, finds its
// record) moves its card's counter to the push's + 1 only if the card is still at the push's value:
// compare-and-set on a counter that only grows, under the card's row lock, so a success racing another
// delivery or a settlement counts once. It frees the card if the card holds that push, and leaves a push
// the card holds otherwise in flight: that push's outcome is still to come, though a success of a push
// with the same counter has just made its block stale. Each card once per statement (PushOutcomes.succeeded),
// its rows locked in one order, as a batch delivered twice at once may run twice.
const SUCCEED = `WITH push AS (${pushes('$1::uuid[]')}),
  card AS (
    SELECT push.command_id, push.issuer_id, push.card_id, push.change_counter, counter.change_counter = push.change_counter AS counted,
      CASE WHEN counter.in_flight_command_id <> push.command_id THEN counter.in_flight_command_id END AS held_by
    FROM push JOIN d1_pin_change_counters counter ON counter.issuer_id = push.issuer_id AND counter.card_id = push.card_id
    WHERE NOT EXISTS (SELECT FROM d1_pin_push_successes WHERE d1_pin_push_successes.command_id = push.command_id)
    ORDER BY counter.issuer_id, counter.card_id FOR UPDATE OF counter
  ), moved AS (
    UPDATE d1_pin_change_counters SET change_counter = CASE WHEN card.counted THEN card.change_counter + 1 ELSE d1_pin_change_counters.change_counter END,
      in_flight_command_id = card.held_by, in_flight_since = CASE WHEN card.held_by IS NULL THEN NULL ELSE d1_pin_change_counters.in_flight_since END, updated_at = now()
    FROM card WHERE d1_pin_change_counters.issuer_id = card.issuer_id AND d1_pin_change_counters.card_id = card.card_id
      AND (card.counted OR d1_pin_change_counters.in_flight_command_id = card.command_id)
  )
  INSERT INTO d1_pin_push_successes (command_id, issuer_id, card_id, change_counter, counted, stale_command_id)
  SELECT command_id, issuer_id, card_id, change_counter, counted, CASE WHEN counted THEN held_by END FROM card
  ON CONFLICT (command_id) DO NOTHING
  RETURNING command_id, issuer_id, card_id, change_counter, counted, stale_command_id`;
// Matches the command in flight only: a redelivered failure, or one of a command that is not a push, changes nothing.
const FREE_CARD = `UPDATE d1_pin_change_counters SET in_flight_command_id = NULL, in_flight_since = NULL, updated_at = now()
  WHERE in_flight_command_id = ANY($1::uuid[])`;

// An operator's settlement of the card's push in flight, and its record, in one statement: the row lock
// taken on the card orders it with an outcome event settling the same push, of which only one wins. A
// success moves the counter as an event's does (SUCCEED): not if the counter was moved past the push's
// meanwhile, by a replayed push's success, which made this push's block stale.
const SETTLE_BY_OPERATOR = `WITH held AS (
    SELECT counter.issuer_id, counter.card_id, push.change_counter AS push_counter, counter.change_counter = push.change_counter AS current
    FROM d1_pin_change_counters counter JOIN (${pushes('ARRAY[$3::uuid]')}) push ON push.command_id = counter.in_flight_command_id
    WHERE counter.issuer_id = $1 AND counter.card_id = $2 AND counter.in_flight_command_id = $3 FOR UPDATE OF counter
  ), settled AS (
    UPDATE d1_pin_change_counters SET change_counter = change_counter + CASE WHEN $4 AND held.current THEN 1 ELSE 0 END, in_flight_command_id = NULL, in_flight_since = NULL, updated_at = now()
    FROM held WHERE d1_pin_change_counters.issuer_id = held.issuer_id AND d1_pin_change_counters.card_id = held.card_id
    RETURNING d1_pin_change_counters.change_counter
  ), success AS (
    INSERT INTO d1_pin_push_successes (command_id, issuer_id, card_id, change_counter, counted)
    SELECT $3, issuer_id, card_id, push_counter, current FROM held WHERE $4
    ON CONFLICT (command_id) DO NOTHING
  ), recorded AS (
    INSERT INTO d1_pin_change_settlements (command_id, issuer_id, card_id, succeeded, change_counter, settled_by)
    SELECT $3, $1, $2, $4, change_counter, $5 FROM settled
    RETURNING succeeded, change_counter, settled_by, settled_at
  )
  SELECT recorded.*, recorded.succeeded AND NOT held.current AS stale_change_counter FROM recorded CROSS JOIN held`;
const SETTLEMENT = `SELECT settlement.succeeded, settlement.change_counter, settlement.settled_by, settlement.settled_at, settlement.succeeded AND success.counted IS FALSE AS stale_change_counter
  FROM d1_pin_change_settlements settlement LEFT JOIN d1_pin_push_successes success ON success.command_id = settlement.command_id
  WHERE settlement.issuer_id = $1 AND settlement.card_id = $2 AND settlement.command_id = $3`;
const IN_FLIGHT = 'SELECT in_flight_command_id FROM d1_pin_change_counters WHERE issuer_id = $1 AND card_id = $2';

/** An operator's settlement of a push whose outcome was unknown: what they found, and the counter it left. */
export interface PushSettlement {
  commandId: string;
  /** Whether the processor applied the change: the counter moved on by one, or stayed. */
  succeeded: boolean;
  changeCounter: number;
  /**
   * A success that left the counter: it had been moved past the push's (a replayed push with the same
   * counter succeeded meanwhile), so this push's block was stale.
   */
  staleChangeCounter: boolean;
  settledBy: string;
  settledAt: string;
  /** Whether this settlement was made before, and the request only repeated it. */
  repeated: boolean;
}

/** A push's first success, as SUCCEED recorded it. */
interface SuccessRow {
  command_id: string;
  issuer_id: string;
  card_id: string;
  change_counter: string;
  counted: boolean;
  stale_command_id: string | null;
}

interface SettlementRow {
  succeeded: boolean;
  change_counter: string;
  settled_by: string;
  settled_at: Date;
  stale_change_counter: boolean;
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
  /**
   * Commands whose change the processor completed, in rounds that name each card at most once, in the
   * order of its events: one statement settles a round (normally the only one), and a card's successes
   * must be compared with its counter one after the other.
   */
  succeeded: string[][];
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
  const succeeded = new Map<string, string>();
  const failed = new Set<string>();
  for (const event of events) {
    const { commandId, vendor } = event.data;
    if (commandId === undefined || vendor === undefined || !vendors.has(vendor)) continue;
    if (requestStatusOf([event.type]) === 'succeeded') {
      if (!succeeded.has(commandId)) succeeded.set(commandId, event.subject);
    } else if (event.type === EVENT_TYPES.failed && event.data.reason !== 'OUTCOME_UNKNOWN') failed.add(commandId);
  }
  return { succeeded: roundsByCard(succeeded), failed: [...failed].filter((commandId) => !succeeded.has(commandId)) };
}

/** Commands (each with its card, in order) in rounds: a card's n-th command goes into the n-th round. */
function roundsByCard(cardOfCommand: ReadonlyMap<string, string>): string[][] {
  const rounds: string[][] = [];
  const seen = new Map<string, number>();
  for (const [commandId, cardId] of cardOfCommand) {
    const round = seen.get(cardId) ?? 0;
    seen.set(cardId, round + 1);
    (rounds[round] ??= []).push(commandId);
  }
  return rounds;
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
  private readonly logger = new Logger('ThalesD1ChangeCounters');

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
   * moves its card's counter to the push's + 1 if the card is still at the push's value, also for a push
   * the card no longer holds (a dead letter replayed after its failure freed the card), and frees the
   * card if it holds the push; a failed one frees the card. Idempotent: a push's success counts once
   * (d1_pin_push_successes), and a failure delivered again finds its push no longer in flight.
   */
  async settle(events: readonly PinflowEvent[]): Promise<void> {
    if (this.vendors.size === 0) return;
    const { succeeded, failed } = pushOutcomesOf(events, this.vendors);
    for (const round of succeeded) {
      const { rows } = await this.pool.query<SuccessRow>(SUCCEED, [round]);
      for (const row of rows) this.reportConflict(row);
    }
    if (failed.length > 0) await this.pool.query(FREE_CARD, [failed]);
  }

  /** Tells operators, by ids only, of a success whose block and the card's counter disagree (README, "A dead letter replayed"). */
  private reportConflict({ command_id: commandId, issuer_id: issuerId, card_id: cardId, change_counter, counted, stale_command_id: staleCommandId }: SuccessRow): void {
    const changeCounter = Number(change_counter);
    if (!counted) {
      this.logger.warn({ commandId, issuerId, cardId, changeCounter }, 'D1 push succeeded with a change counter the card had moved past: its block was stale, and the counter stays');
    } else if (staleCommandId !== null) {
      this.logger.warn({ commandId, issuerId, cardId, changeCounter, staleCommandId }, 'D1 push succeeded after its card was freed, while the card holds another push computed with the same counter: the counter moved on, and that push will not move it again');
    }
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
  return { commandId, succeeded: row.succeeded, changeCounter: Number(row.change_counter), staleChangeCounter: row.stale_change_counter, settledBy: row.settled_by, settledAt: row.settled_at.toISOString(), repeated };
}
