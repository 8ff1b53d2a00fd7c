import { buildEvent, EVENT_TYPES, type PinflowEvent, TERMINAL_EVENT_TYPES } from '@pinflow/contracts';
import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { createSqlPool, type SqlPool } from '@pinflow/sql';
import { createScratchDatabase, type PlanNode, planNodesOf, ScratchDatabase, testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { AuditEventStore, OUTCOME_COUNTS } from './event-store';

/**
 * The console's vendor health reads the audit trail on every refresh: on a trail of a month, it
 * reads the last minutes' outcomes through an index, never the whole table.
 */
describe('vendor health on a month of audit trail', () => {
  let database: ScratchDatabase;
  let pool: SqlPool;
  const now = Date.now();

  beforeAll(async () => {
    database = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_vendor_health');
    await migrateDeploy(database.url, defaultMigrationsDir());
    pool = createSqlPool(database.url, 2);
    // 30 days of events, one every 100 s per card over 100 cards: mostly accepted, then their outcomes.
    // The chain trigger links each row as the audit service's inserts would.
    await pool.query(
      `INSERT INTO audit_events (event_id, type, source, card_id, time, data)
       SELECT 'seed-' || n,
              CASE n % 3 WHEN 0 THEN $2 WHEN 1 THEN $3 ELSE $4 END,
              'urn:seed', 'card-' || (n % 100),
              to_timestamp($1::double precision / 1000) - make_interval(secs => n),
              jsonb_build_object('vendor', CASE n % 2 WHEN 0 THEN 'pismo' ELSE 'vault' END, 'reason', CASE n % 3 WHEN 2 THEN 'VENDOR_UNAVAILABLE' END)
         FROM generate_series(1, 30 * 24 * 36) AS n`,
      [now, EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged, EVENT_TYPES.failed],
    );
    await pool.query('ANALYZE audit_events');
  }, 180_000);

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('reads the window through audit_events_type_time_idx', async () => {
    const since = new Date(now - 15 * 60_000);
    const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
      text: `EXPLAIN (FORMAT JSON) ${OUTCOME_COUNTS.text}`,
      values: [since, [...TERMINAL_EVENT_TYPES]],
    });
    const nodes = planNodesOf(rows[0]['QUERY PLAN'][0].Plan);

    expect(nodes.map((node) => node['Index Name']).filter(Boolean)).toEqual(['audit_events_type_time_idx']);
    expect(nodes.map((node) => node['Node Type'])).not.toContain('Seq Scan');
  });

  it("counts each vendor's outcomes of the window, and none older", async () => {
    const counts = await new AuditEventStore(pool).outcomeCounts(new Date(now - 15 * 60_000 - 500));

    // n = 1 … 900 are the window's seconds: 300 of each type, split between the vendors by parity.
    const total = (type: string) => counts.filter((count) => count.type === type).reduce((sum, count) => sum + count.count, 0);
    expect(total(EVENT_TYPES.passwordChanged)).toBe(300);
    expect(total(EVENT_TYPES.failed)).toBe(300);
    expect(counts.find((count) => count.type === EVENT_TYPES.failed && count.vendor === 'pismo')).toMatchObject({ reason: 'VENDOR_UNAVAILABLE', count: 150 });
  });
});

describe('recording the events of several partitions at once', () => {
  let database: ScratchDatabase;
  let pool: SqlPool;

  beforeAll(async () => {
    database = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_audit_inserts');
    await migrateDeploy(database.url, defaultMigrationsDir());
    pool = createSqlPool(database.url, 4);
  }, 60_000);

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const changed = (cardId: string): PinflowEvent =>
    buildEvent(EVENT_TYPES.passwordChanged, { source: '/pinflow/worker-pismo', cardId, data: { vendor: 'pismo', requestId: randomUUID(), commandId: randomUUID() } });

  it('stores the batches in hand in one insert, and tells one batch only that an event both carried was stored', async () => {
    let statements = 0;
    const countingPool = Object.assign(Object.create(pool) as SqlPool, {
      query: (...args: Parameters<SqlPool['query']>) => {
        statements += 1;
        return pool.query(...args);
      },
    });
    const store = new AuditEventStore(countingPool);
    const redelivered = changed('card-b');
    const batches = [[changed('card-a')], [redelivered, changed('card-b')], [changed('card-c'), redelivered]];

    const stored = await Promise.all(batches.map((events) => store.record(events, events.map(() => ({ signer: 'worker-pismo' })))));

    expect(statements).toBe(2); // the second insert carries the repeated event, which waits for the first
    expect(stored.filter((ids) => ids.has(redelivered.id))).toHaveLength(1);
    expect(stored.map((ids) => ids.size)).toEqual([1, 2, 1]);
    const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM audit_events');
    expect(rows[0].count).toBe(4);
  });
});
