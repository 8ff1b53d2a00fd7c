import { Injectable } from '@nestjs/common';
import { SqlPool } from '@pinflow/sql';
import { D1Error } from './d1-errors';

/** A card's counter as the table keeps it; a card without a row is at 0. */
const CURRENT = 'SELECT change_counter, correlation_id FROM d1_pin_change_counters WHERE issuer_id = $1 AND card_id = $2';

// Compare-and-set: only a push computed with the current value moves it, so of two racing pushes with
// the same counter one wins and the other is stale, as it would be on the chip.
const CLAIM_FIRST = `INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, correlation_id) VALUES ($1, $2, 1, $3)
  ON CONFLICT (issuer_id, card_id) DO UPDATE SET change_counter = 1, correlation_id = $3, updated_at = now()
  WHERE d1_pin_change_counters.change_counter = 0 RETURNING 1`;
const CLAIM_NEXT = `UPDATE d1_pin_change_counters SET change_counter = $3 + 1, correlation_id = $4, updated_at = now()
  WHERE issuer_id = $1 AND card_id = $2 AND change_counter = $3 RETURNING 1`;
const RELEASE = `UPDATE d1_pin_change_counters SET change_counter = $3, correlation_id = NULL, updated_at = now()
  WHERE issuer_id = $1 AND card_id = $2 AND change_counter = $3 + 1 AND correlation_id IS NOT DISTINCT FROM $4`;

export const staleChangeCounter = () => new D1Error(409, 'STALE_CHANGE_COUNTER', "The PIN block was computed with another change counter than the card's current one: read .../pin/changeCounter and compute the block again");

/**
 * The Seccos PIN change counter of each card of the issuers pinflow serves (D1's `GET .../pin/changeCounter`:
 * "used to compute PRW and MAC"). A 3DES_SECCOS push must carry the current value; accepting it moves
 * the counter on by one, so the same block replayed later is stale.
 */
@Injectable()
export class D1ChangeCounters {
  constructor(private readonly pool: SqlPool) {}

  async current(issuerId: string, cardId: string): Promise<number> {
    const { rows } = await this.pool.query<{ change_counter: string }>(CURRENT, [issuerId, cardId]);
    return rows.length === 0 ? 0 : Number(rows[0].change_counter);
  }

  /**
   * Moves the card's counter from `counter` to the next value for this push, or recognises the push as
   * the retry (same x-correlation-id) of the one that moved it there; refuses any other counter as
   * stale (409). `moved` says whether this call moved it, and so whether {@link release} may undo it.
   */
  async claim(issuerId: string, cardId: string, counter: number, correlationId: string | undefined): Promise<{ moved: boolean }> {
    const cid = correlationId ?? null;
    const { rowCount } = counter === 0 ? await this.pool.query(CLAIM_FIRST, [issuerId, cardId, cid]) : await this.pool.query(CLAIM_NEXT, [issuerId, cardId, counter, cid]);
    if (rowCount === 1) return { moved: true };
    const { rows } = await this.pool.query<{ change_counter: string; correlation_id: string | null }>(CURRENT, [issuerId, cardId]);
    const retried = correlationId !== undefined && rows[0]?.correlation_id === correlationId && Number(rows[0].change_counter) === counter + 1;
    if (!retried) throw staleChangeCounter();
    return { moved: false };
  }

  /** Gives back a counter this push moved when the push was then refused, unless another push moved it since. */
  async release(issuerId: string, cardId: string, counter: number, correlationId: string | undefined): Promise<void> {
    await this.pool.query(RELEASE, [issuerId, cardId, counter, correlationId ?? null]);
  }
}
