import { createHash } from 'node:crypto';
import { Client } from 'pg';

/** What the first event of a card links to (prisma/migrations/20261204000100_audit_hash_chain). */
export const GENESIS_HASH = '0'.repeat(64);

/** One audit_events row as the chain covers it: `data` is jsonb's own text, which the hash covers. */
export interface ChainedEvent {
  sequence: string;
  eventId: string;
  type: string;
  source: string;
  cardId: string;
  requestId: string | null;
  commandId: string | null;
  time: Date;
  data: string;
  recordedAt: Date;
  prevHash: string;
  hash: string;
}

export type ChainFinding =
  /** The row's fields no longer hash to its stored hash. */
  | { kind: 'altered'; event: ChainedEvent }
  /** The row is not on its card's chain: a later row links past it, to the row before it. */
  | { kind: 'inserted'; event: ChainedEvent; skippedBy: ChainedEvent }
  /** The row links to a hash no row of its card has: rows before it were deleted, or rewritten along with their hash. */
  | { kind: 'deleted'; before: ChainedEvent };

/**
 * The row's hash recomputed here, not by the database's audit_event_hash(): whoever can tamper with
 * the table can replace that function too. The same serialisation: each field "<UTF-8 bytes>:<value>"
 * ("-" for NULL), times as epoch milliseconds.
 */
export function eventHash(event: ChainedEvent): string {
  const fields = [
    event.sequence,
    event.prevHash,
    event.eventId,
    event.type,
    event.source,
    event.cardId,
    event.requestId,
    event.commandId,
    String(event.time.getTime()),
    event.data,
    String(event.recordedAt.getTime()),
  ];
  const canonical = fields.map((field) => (field === null ? '-' : `${Buffer.byteLength(field, 'utf8')}:${field}`)).join('');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Walks one card's rows in sequence order. A genuine row links to the newest row of its card when it
 * was written, and the trigger draws sequences in chain order, so: a row that links to an older row
 * than its predecessor shows the rows in between were inserted afterwards; a link to a hash no row has
 * shows a gap. Removing a card's newest rows leaves no gap: only a copy of the heads kept elsewhere
 * would show that.
 */
export function cardChainFindings(events: readonly ChainedEvent[]): ChainFinding[] {
  const findings: ChainFinding[] = [];
  const chain: ChainedEvent[] = [];
  for (const event of events) {
    if (eventHash(event) !== event.hash) findings.push({ kind: 'altered', event });
    const head = chain.length > 0 ? chain[chain.length - 1].hash : GENESIS_HASH;
    if (event.prevHash !== head) {
      const linkedTo = event.prevHash === GENESIS_HASH ? -1 : chain.map((earlier) => earlier.hash).lastIndexOf(event.prevHash);
      if (linkedTo >= 0 || event.prevHash === GENESIS_HASH) {
        for (const skipped of chain.splice(linkedTo + 1)) findings.push({ kind: 'inserted', event: skipped, skippedBy: event });
      } else {
        findings.push({ kind: 'deleted', before: event });
      }
    }
    chain.push(event);
  }
  return findings;
}

export interface ChainReport {
  events: number;
  cards: number;
  findings: ChainFinding[];
}

const PAGE_SIZE = 5000;

/**
 * Verifies every card's chain in audit_events, from one snapshot (rows written meanwhile are simply
 * not seen), a page of rows at a time through a cursor so the table never has to fit in memory.
 */
export async function verifyAuditChains(databaseUrl: string): Promise<ChainReport> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const report: ChainReport = { events: 0, cards: 0, findings: [] };
  let card: ChainedEvent[] = [];
  const closeCard = () => {
    if (card.length === 0) return;
    report.cards += 1;
    report.findings.push(...cardChainFindings(card));
    card = [];
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Ordered by the qualified column: plain `sequence` would name the text output column.
    await client.query(`DECLARE audit_chain NO SCROLL CURSOR FOR
      SELECT sequence::text AS "sequence", event_id AS "eventId", type, source, card_id AS "cardId", request_id AS "requestId",
             command_id AS "commandId", time, data::text AS data, recorded_at AS "recordedAt", prev_hash AS "prevHash", hash
      FROM audit_events ORDER BY card_id, audit_events.sequence`);
    for (;;) {
      const { rows } = await client.query<ChainedEvent>(`FETCH ${PAGE_SIZE} FROM audit_chain`);
      for (const event of rows) {
        if (card.length > 0 && card[0].cardId !== event.cardId) closeCard();
        card.push(event);
      }
      report.events += rows.length;
      if (rows.length < PAGE_SIZE) break;
    }
    closeCard();
    await client.query('COMMIT');
    return report;
  } finally {
    await client.end();
  }
}

/** One line per finding, naming the rows by sequence and event id. */
export function describeFinding(finding: ChainFinding): string {
  const row = (event: ChainedEvent) => `sequence ${event.sequence} (event ${event.eventId}, card ${event.cardId})`;
  switch (finding.kind) {
    case 'altered':
      return `ALTERED  ${row(finding.event)}: its fields no longer match its hash`;
    case 'inserted':
      return `INSERTED ${row(finding.event)}: not on the card's chain, sequence ${finding.skippedBy.sequence} links past it`;
    case 'deleted':
      return `DELETED  before ${row(finding.before)}: the row it links to is gone (deleted, or rewritten with a new hash)`;
  }
}
