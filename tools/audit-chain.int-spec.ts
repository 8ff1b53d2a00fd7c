import { buildEvent, EVENT_TYPES, PinflowEvent } from '@pinflow/contracts';
import { createDatabase, Database, defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { createScratchDatabase, repoRoot, ScratchDatabase, testEnv } from '@pinflow/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { AuditEventStore } from '../apps/audit/src/event-store';
import { auditDatabaseUrl } from '../apps/audit/src/writer-role';
import { ChainFinding, verifyAuditChains } from './audit-chain';

const CHAIN_MIGRATION = '20261204000100_audit_hash_chain';
const newCard = () => `chain-it-${randomUUID().slice(0, 8)}`;

const accepted = (cardId: string) =>
  buildEvent(EVENT_TYPES.accepted, {
    source: 'urn:pinflow:audit-chain-int-spec',
    cardId,
    data: { vendor: 'pismo', requestId: randomUUID(), commandId: randomUUID(), operation: 'change_pin', caller: 'issuer-app' },
  });

/** An event written with a plain INSERT, as services did before the chain (the trigger links it where there is one). */
async function insertDirectly(client: Client, event: PinflowEvent): Promise<void> {
  await client.query('INSERT INTO audit_events (event_id, type, source, card_id, time, data) VALUES ($1, $2, $3, $4, $5, $6)', [
    event.id,
    event.type,
    event.source,
    event.subject,
    event.time,
    event.data,
  ]);
}

interface StoredRow {
  sequence: string;
  event_id: string;
  prev_hash: string;
  hash: string;
}

/** Findings as event ids, so a test can name what it expects. */
const summary = (findings: ChainFinding[]) =>
  findings.map((finding) =>
    finding.kind === 'deleted'
      ? { kind: finding.kind, before: finding.before.eventId }
      : { kind: finding.kind, eventId: finding.event.eventId, ...(finding.kind === 'inserted' ? { skippedBy: finding.skippedBy.eventId } : {}) },
  );

describe('the audit trail hash chain', () => {
  const scratch: ScratchDatabase[] = [];
  let database: ScratchDatabase;
  /** The table owner: what migrations run as, and what an attacker with owner rights holds. */
  let owner: Client;
  /** The audit service's own connection: its pool takes pinflow_audit_writer. */
  let writer: Database;
  let store: AuditEventStore;

  async function migratedDatabase(migrationsDir = defaultMigrationsDir()): Promise<ScratchDatabase> {
    const created = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_audit_chain');
    scratch.push(created);
    await migrateDeploy(created.url, migrationsDir);
    return created;
  }

  async function rowsOf(cardId: string, client = owner): Promise<StoredRow[]> {
    const { rows } = await client.query<StoredRow>('SELECT sequence, event_id, prev_hash, hash FROM audit_events WHERE card_id = $1 ORDER BY sequence', [cardId]);
    return rows;
  }

  async function findingsFor(cardId: string, url = database.url) {
    const { findings } = await verifyAuditChains(url);
    return summary(findings.filter((finding) => (finding.kind === 'deleted' ? finding.before : finding.event).cardId === cardId));
  }

  /** Tampering as the owner would: triggers off, the change, triggers on, in one transaction. */
  async function asOwnerWithTriggersOff(...statements: [string, unknown[]][]): Promise<void> {
    await owner.query('BEGIN');
    await owner.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    for (const [sql, values] of statements) await owner.query(sql, values);
    await owner.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await owner.query('COMMIT');
  }

  /** Three events of one card, stored in separate batches with another card's between them. */
  async function cardWithThreeEvents(): Promise<{ cardId: string; events: PinflowEvent[] }> {
    const cardId = newCard();
    const events = [accepted(cardId), accepted(cardId), accepted(cardId)];
    for (const event of events) await store.record([event, accepted(newCard())]);
    return { cardId, events };
  }

  beforeAll(async () => {
    database = await migratedDatabase();
    owner = new Client({ connectionString: database.url });
    await owner.connect();
    writer = createDatabase(auditDatabaseUrl({ DATABASE_URL: database.url, AUDIT_DATABASE_ROLE: 'pinflow_audit_writer' }), 2);
    store = new AuditEventStore(writer.pool);
  });

  afterAll(async () => {
    await owner?.end();
    await writer?.prisma.$disconnect();
    await writer?.pool.end();
    await Promise.all(scratch.map((created) => created.drop()));
  });

  it('links each event the audit service stores to the previous event of its card, within one batch and across batches', async () => {
    const cardId = newCard();
    const first = [accepted(cardId), accepted(newCard()), accepted(cardId)];
    const second = [accepted(cardId)];

    await store.record(first);
    await store.record([...first, ...second]); // a redelivery: stored once, the chain unchanged

    const rows = await rowsOf(cardId);
    expect(rows.map((row) => row.event_id)).toEqual([first[0].id, first[2].id, second[0].id]);
    expect(rows.map((row) => row.prev_hash)).toEqual(['0'.repeat(64), rows[0].hash, rows[1].hash]);
    expect(await findingsFor(cardId)).toEqual([]);
  });

  it('stores through a role that may only add and read events: it cannot change, remove or unprotect them', async () => {
    const { cardId } = await cardWithThreeEvents();
    const asWriter = (sql: string) => writer.pool.query(sql);

    expect((await asWriter('SELECT current_user')).rows).toEqual([{ current_user: 'pinflow_audit_writer' }]);
    await expect(asWriter(`UPDATE audit_events SET type = 'rewritten' WHERE card_id = '${cardId}'`)).rejects.toThrow(/permission denied for table audit_events/);
    await expect(asWriter(`DELETE FROM audit_events WHERE card_id = '${cardId}'`)).rejects.toThrow(/permission denied for table audit_events/);
    await expect(asWriter('TRUNCATE audit_events')).rejects.toThrow(/permission denied for table audit_events/);
    await expect(asWriter('ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain')).rejects.toThrow(/must be owner of table audit_events/);
    await expect(asWriter('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only')).rejects.toThrow(/must be owner of table audit_events/);
    expect(await rowsOf(cardId)).toHaveLength(3);
  });

  it('gives a writer no say over where a row sits in the chain: sequence and hashes it passes are replaced', async () => {
    const { cardId } = await cardWithThreeEvents();
    const [firstRow] = await rowsOf(cardId);
    const forged = accepted(cardId);

    await writer.pool.query(
      `INSERT INTO audit_events (sequence, event_id, type, source, card_id, time, data, prev_hash, hash) VALUES ($1, $2, 'x', 's', $3, now(), '{}', $4, $4)`,
      [String(BigInt(firstRow.sequence) + 1n), forged.id, cardId, firstRow.hash],
    );

    const rows = await rowsOf(cardId);
    expect(rows[3]).toMatchObject({ event_id: forged.id, prev_hash: rows[2].hash });
    expect(await findingsFor(cardId)).toEqual([]);
  });

  it('reports a row whose fields were altered', async () => {
    const { cardId, events } = await cardWithThreeEvents();

    await asOwnerWithTriggersOff([`UPDATE audit_events SET data = jsonb_set(data, '{caller}', '"someone-else"') WHERE event_id = $1`, [events[1].id]]);

    expect(await findingsFor(cardId)).toEqual([{ kind: 'altered', eventId: events[1].id }]);
  });

  it('reports a deleted row, at the row that linked to it', async () => {
    const { cardId, events } = await cardWithThreeEvents();

    await asOwnerWithTriggersOff(['DELETE FROM audit_events WHERE event_id = $1', [events[1].id]]);

    expect(await findingsFor(cardId)).toEqual([{ kind: 'deleted', before: events[2].id }]);
  });

  it('reports a forged row slipped into a card’s history, even one that links and hashes correctly', async () => {
    const { cardId, events } = await cardWithThreeEvents();
    const [firstRow] = await rowsOf(cardId);
    const forged = accepted(cardId);

    // Placed between the first two events, linked to the first, its hash computed as the trigger would.
    await asOwnerWithTriggersOff(
      [
        `INSERT INTO audit_events (sequence, event_id, type, source, card_id, request_id, command_id, time, data, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')`,
        [String(BigInt(firstRow.sequence) + 1n), forged.id, forged.type, forged.source, cardId, forged.data.requestId, forged.data.commandId, forged.time, forged.data, firstRow.hash],
      ],
      ['UPDATE audit_events SET hash = audit_event_hash(audit_events) WHERE event_id = $1', [forged.id]],
    );

    expect((await rowsOf(cardId)).map((row) => row.event_id)).toEqual([events[0].id, forged.id, events[1].id, events[2].id]);
    expect(await findingsFor(cardId)).toEqual([{ kind: 'inserted', eventId: forged.id, skippedBy: events[1].id }]);
  });

  it('chains the events stored before the migration, so the trail is verifiable from its first row', async () => {
    const earlier = mkdtempSync(path.join(os.tmpdir(), 'pinflow-migrations-'));
    const migrations = defaultMigrationsDir();
    cpSync(path.join(migrations, 'migration_lock.toml'), path.join(earlier, 'migration_lock.toml'));
    for (const name of readdirSync(migrations).filter((entry) => entry < CHAIN_MIGRATION && !entry.endsWith('.toml'))) {
      cpSync(path.join(migrations, name), path.join(earlier, name), { recursive: true });
    }
    const upgraded = await migratedDatabase(earlier);
    rmSync(earlier, { recursive: true, force: true });
    const client = new Client({ connectionString: upgraded.url });
    await client.connect();
    try {
      const cardId = newCard();
      for (const event of [accepted(cardId), accepted(newCard()), accepted(cardId)]) {
        await insertDirectly(client, event);
      }

      // The chain's migration, and whatever came after it.
      expect((await migrateDeploy(upgraded.url, migrations)).applied[0]).toBe(CHAIN_MIGRATION);

      const rows = await rowsOf(cardId, client);
      expect(rows.map((row) => row.prev_hash)).toEqual(['0'.repeat(64), rows[0].hash]);
      expect(await verifyAuditChains(upgraded.url)).toEqual({ events: 3, cards: 2, findings: [] });
    } finally {
      await client.end();
    }
  });

  it('`npm run audit -- verify` passes an intact trail, and names an altered row by sequence and event id with a non-zero exit', async () => {
    const own = await migratedDatabase();
    const client = new Client({ connectionString: own.url });
    await client.connect();
    const verify = () =>
      promisify(execFile)(process.execPath, [path.join(repoRoot, 'dist/tools/audit.js'), 'verify'], { env: { ...process.env, DATABASE_URL: own.url } }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (failure: { code: number; stdout: string }) => failure,
      );
    try {
      const event = accepted(newCard());
      await insertDirectly(client, event);
      expect(await verify()).toEqual({ code: 0, stdout: '1 event(s) in 1 card chain(s): intact\n' });

      await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      await client.query(`UPDATE audit_events SET type = 'pinflow.pin.changed' WHERE event_id = $1`, [event.id]);

      const { rows } = await client.query<{ sequence: string }>('SELECT sequence FROM audit_events WHERE event_id = $1', [event.id]);
      expect(await verify()).toMatchObject({
        code: 1,
        stdout: `ALTERED  sequence ${rows[0].sequence} (event ${event.id}, card ${event.subject}): its fields no longer match its hash\n1 event(s) in 1 card chain(s): 1 finding(s)\n`,
      });
    } finally {
      await client.end();
    }
  });
});
