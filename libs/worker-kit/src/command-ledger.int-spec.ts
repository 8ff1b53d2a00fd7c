import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { createScratchDatabase, type PlanNode, planNodesOf, ScratchDatabase, testEnv } from '@pinflow/testing';
import { createSqlPool } from '@pinflow/sql';
import { Client } from 'pg';
import { CommandLedger, LEDGER_STATEMENTS, ONE_COMMAND_STATEMENTS } from './command-ledger';
import { COMMAND_STATES } from './outcomes';

/** An SQL array of `count` copies of `element`. */
const copies = (element: string, count: number) => `ARRAY[${Array(count).fill(element).join(', ')}]`;

/** Each batch update's parameter types, and its arguments after $1 (the command ids) and $2 (the vendor) for `count` commands. */
const MOVES = {
  resumeCalling: { types: 'uuid[], text', more: () => '' },
  retrying: { types: 'uuid[], text, integer[]', more: (count: number) => `, ${copies('503', count)}` },
  awaitVendorEvent: { types: 'uuid[], text, integer[], text[]', more: (count: number) => `, ${copies('202', count)}, ${copies("'correlation'", count)}` },
  finishCall: { types: 'uuid[], text, text[], text[], integer[]', more: (count: number) => `, ${copies(`'${COMMAND_STATES.succeeded}'`, count)}, ${copies("'{}'", count)}, ${copies('200', count)}` },
  markPublished: { types: 'uuid[], text', more: () => '' },
  settleByVendorEvent: { types: 'uuid[], text, text[], text[], text[]', more: (count: number) => `, ${copies(`'${COMMAND_STATES.succeeded}'`, count)}, ${copies("'{}'", count)}, ${copies("'event'", count)}` },
} satisfies Partial<Record<keyof typeof LEDGER_STATEMENTS, { types: string; more: (count: number) => string }>>;

/** A new database with pinflow's tables, and a connection to it. */
async function migratedDatabase(prefix: string): Promise<{ database: ScratchDatabase; client: Client }> {
  const database = await createScratchDatabase(testEnv().databaseUrl, prefix);
  await migrateDeploy(database.url, defaultMigrationsDir());
  const client = new Client({ connectionString: database.url });
  await client.connect();
  return { database, client };
}

/**
 * The ledger's batch updates run several times per PIN change. On a new database the table's
 * statistics are those of an empty table until autovacuum's next analyze, while the table grows by
 * hundreds of commands a second; and a prepared statement may keep the plan it got then. Each update
 * must still reach its rows by primary key, never by an index walk over every command of the vendor.
 */
describe("the ledger's batch updates on a table grown since its statistics were made", () => {
  let database: ScratchDatabase;
  let client: Client;
  let commandIds: string[];

  beforeAll(async () => {
    ({ database, client } = await migratedDatabase('pinflow_ledger_plans'));
    await client.query('ALTER TABLE vendor_commands SET (autovacuum_enabled = false)');
    await client.query('ANALYZE vendor_commands');
    for (const [statement, { types }] of Object.entries(MOVES)) await client.query(`PREPARE ${statement} (${types}) AS ${LEDGER_STATEMENTS[statement as keyof typeof MOVES].text}`);
    await client.query(
      `INSERT INTO vendor_commands (command_id, vendor, request_id, card_id, operation, state, correlation_id, attempts, updated_at)
       SELECT id, CASE WHEN n % 10 = 0 THEN 'vault' ELSE 'pismo' END, gen_random_uuid(), 'card-' || (n % 200), 'pin-change', $1, id::text, 1, now()
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 20000) AS n) seeded`,
      [COMMAND_STATES.calling],
    );
    const { rows } = await client.query<{ command_id: string }>("SELECT command_id FROM vendor_commands WHERE vendor = 'pismo' LIMIT 200");
    commandIds = rows.map((row) => row.command_id);
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  describe.each([
    ['force_custom_plan', 8],
    ['force_custom_plan', 200],
    ['force_generic_plan', 8],
  ])('planned with plan_cache_mode = %s, for a batch of %i', (planCacheMode, batchSize) => {
    it.each(Object.keys(MOVES) as (keyof typeof MOVES)[])('%s uses no index of vendor_commands but its primary key', async (statement) => {
      await client.query(`SET plan_cache_mode = ${planCacheMode}`);
      const batch = commandIds.slice(0, batchSize);
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) EXECUTE ${statement} ('{${batch.join(',')}}', 'pismo'${MOVES[statement].more(batch.length)})`,
      );
      const onLedger = planNodesOf(rows[0]['QUERY PLAN'][0].Plan).filter(
        (node) => node['Node Type'] !== 'ModifyTable' && (node['Relation Name'] === 'vendor_commands' || node['Index Name']?.startsWith('vendor_commands')),
      );

      // A large batch may read the table whole instead, when its size says so: that costs what it did
      // when planned, whereas an index walk by vendor or state reads every command however few it wants.
      expect(new Set(onLedger.map((node) => node['Index Name']).filter(Boolean))).toEqual(new Set(['vendor_commands_pkey']));
    });
  });
});

/**
 * Every worker sweeps its ledger every few seconds for commands whose vendor event is overdue and for
 * outcomes left unpublished, and counts the commands in progress for each Prometheus scrape. A ledger
 * holds every command ever run: a sweep or a scrape must read the few it may act on or count, not the
 * history.
 */
describe('the sweeps and the gauge on a ledger of 20,000 finished commands', () => {
  let database: ScratchDatabase;
  let client: Client;

  beforeAll(async () => {
    ({ database, client } = await migratedDatabase('pinflow_ledger_sweeps'));
    // Mostly finished and published; one in 1,000 awaiting its vendor's event, one in 1,000 unpublished.
    await client.query(
      `INSERT INTO vendor_commands (command_id, vendor, request_id, card_id, operation, state, correlation_id, attempts, outcome_event, outcome_published_at, updated_at)
       SELECT id, 'pismo', gen_random_uuid(), 'card-' || (n % 200), 'pin-change',
              CASE WHEN n % 1000 = 0 THEN $1 ELSE $2 END, id::text, 1,
              CASE WHEN n % 1000 = 0 THEN NULL ELSE '{}'::jsonb END,
              CASE WHEN n % 1000 IN (0, 1) THEN NULL ELSE now() END,
              now() - make_interval(secs => n)
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, 20000) AS n) seeded`,
      [COMMAND_STATES.awaitingVendorEvent, COMMAND_STATES.succeeded],
    );
    await client.query('ANALYZE vendor_commands');
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it.each([
    ['awaitingSince', 'vendor_commands_in_progress_idx'],
    ['unpublishedSince', 'vendor_commands_unpublished_outcome_idx'],
  ] as const)('%s reads only the commands it may act on, through %s', async (sweep, index) => {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
      text: `EXPLAIN (ANALYZE, FORMAT JSON) ${ONE_COMMAND_STATEMENTS[sweep].text}`,
      values: ['pismo', new Date(), 100],
    });
    const scans = planNodesOf(rows[0]['QUERY PLAN'][0].Plan).filter((node) => node['Relation Name'] === 'vendor_commands' || node['Index Name']);

    expect(scans.map((node) => node['Index Name'])).toEqual([index]);
    expect(scans.map((node) => node['Actual Rows'])).toEqual([20]);
  });

  it('the vendor_commands gauge reads only the commands in progress, through vendor_commands_in_progress_idx', async () => {
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${ONE_COMMAND_STATEMENTS.countInProgress.text}`, values: ['pismo'] });
    const scans = planNodesOf(rows[0]['QUERY PLAN'][0].Plan).filter((node) => node['Relation Name'] === 'vendor_commands' || node['Index Name']);

    expect(scans.map((node) => node['Index Name'])).toEqual(['vendor_commands_in_progress_idx']);
    expect(scans.map((node) => node['Actual Rows'])).toEqual([20]);
  });

  it('the vendor_commands gauge names every state in progress, 0 where no command is in it', async () => {
    const pool = createSqlPool(database.url, 1);
    try {
      expect(await new CommandLedger(pool, 'pismo').countInProgress()).toEqual([
        { labels: { vendor: 'pismo', state: COMMAND_STATES.calling }, value: 0 },
        { labels: { vendor: 'pismo', state: COMMAND_STATES.retrying }, value: 0 },
        { labels: { vendor: 'pismo', state: COMMAND_STATES.awaitingVendorEvent }, value: 20 },
      ]);
    } finally {
      await pool.end();
    }
  });
});
