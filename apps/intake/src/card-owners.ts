import { cardId, VENDORS } from '@pinflow/contracts';
import type { SqlPool } from '@pinflow/sql';
import { z } from 'zod';

/** One card of a tenant's portfolio: the vendor's card id, and the tenant it belongs to. */
export const cardOwner = z.strictObject({
  tenant: z.string().min(1).max(256),
  vendor: z.enum(VENDORS),
  cardId,
});
export type CardOwner = z.output<typeof cardOwner>;

/** An ownership import file's line that is not `tenant,vendor,cardId`, by line number (from 1). */
export class CardOwnersFileError extends Error {}

/**
 * An issuer's portfolio export as intake imports it: a line `tenant,vendor,cardId` per card; blank
 * lines and lines starting with `#` are skipped. Refused whole if any line is wrong, so an import
 * never half-applies a file.
 */
export function parseCardOwners(text: string): CardOwner[] {
  const owners: CardOwner[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [tenant, vendor, card, ...rest] = trimmed.split(',').map((field) => field.trim());
    const parsed = cardOwner.safeParse({ tenant, vendor, cardId: card });
    if (rest.length > 0 || !parsed.success) problems.push(`line ${index + 1}: expected tenant,vendor,cardId with a known vendor and a card id of letters, digits, _ or -`);
    else owners.push(parsed.data);
  });
  if (problems.length > 0) throw new CardOwnersFileError(problems.join('\n'));
  return owners;
}

const ASSIGN = `
  INSERT INTO intake_card_owners (vendor, card_id, tenant)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
  ON CONFLICT (vendor, card_id) DO UPDATE SET tenant = excluded.tenant, assigned_at = now()
    WHERE intake_card_owners.tenant <> excluded.tenant
  RETURNING (xmax <> 0) AS moved`;

/** What an import did: cards new to the registry, cards that moved from another tenant, and cards already the tenant's. */
export interface AssignResult {
  added: number;
  moved: number;
  unchanged: number;
}

/**
 * The registry of which tenant each card belongs to (intake_card_owners), as its administrators
 * change it: `npm run cards`. The accept path only reads it (see RequestWriter).
 */
export class CardOwners {
  constructor(private readonly pool: SqlPool) {}

  /** Records each card as its tenant's, in one transaction; a card already another tenant's moves to the new one. */
  async assign(owners: CardOwner[]): Promise<AssignResult> {
    // One row per card: within one statement PostgreSQL cannot update a row twice.
    const byCard = new Map(owners.map((owner) => [`${owner.vendor}\u0000${owner.cardId}`, owner]));
    const unique = [...byCard.values()];
    const { rows } = await this.pool.query<{ moved: boolean }>(ASSIGN, [unique.map((owner) => owner.vendor), unique.map((owner) => owner.cardId), unique.map((owner) => owner.tenant)]);
    const moved = rows.filter((row) => row.moved).length;
    return { added: rows.length - moved, moved, unchanged: unique.length - rows.length };
  }

  /** Takes cards out of the registry (closed, or sold off): no tenant may write to them any more. The number removed. */
  async remove(cards: Pick<CardOwner, 'vendor' | 'cardId'>[]): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM intake_card_owners WHERE (vendor, card_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
      [cards.map((card) => card.vendor), cards.map((card) => card.cardId)],
    );
    return rowCount ?? 0;
  }
}
