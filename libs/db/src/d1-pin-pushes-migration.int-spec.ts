import { createScratchDatabase, ScratchDatabase, testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { defaultMigrationsDir, migrateDeploy } from './migrate';
import { migrationsBefore } from './migrations.spec-support';

const PUSHES_MIGRATION = '20261206100000_d1_pin_pushes';

/**
 * D1 pushes came to keep the change counter their block was computed with: the pushes in flight when
 * the migration runs get theirs from their card, which their claim compared it with.
 */
describe('the D1 pin pushes migration', () => {
  let database: ScratchDatabase;
  let before: string;
  let db: Client;

  beforeAll(async () => {
    database = await createScratchDatabase(testEnv().databaseUrl, 'pinflow_d1_pin_pushes');
    before = migrationsBefore(PUSHES_MIGRATION);
    await migrateDeploy(database.url, before);
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await database?.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('records each push in flight with its card’s counter, and no card that holds none', async () => {
    const inFlight = randomUUID();
    await db.query(
      `INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, in_flight_command_id, in_flight_since)
       VALUES ('ISSUER0001', 'card-held', 3, $1, now()), ('ISSUER0001', 'card-free', 5, NULL, NULL)`,
      [inFlight],
    );

    await migrateDeploy(database.url, defaultMigrationsDir());

    const { rows } = await db.query(`SELECT command_id, issuer_id, card_id, change_counter::int FROM d1_pin_pushes`);
    expect(rows).toEqual([{ command_id: inFlight, issuer_id: 'ISSUER0001', card_id: 'card-held', change_counter: 3 }]);
  });
});
