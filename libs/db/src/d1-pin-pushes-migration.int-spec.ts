import { randomUUID } from 'node:crypto';
import { databaseBeforeMigration } from './migrations.spec-support';

const PUSHES_MIGRATION = '20261206100000_d1_pin_pushes';

/**
 * D1 pushes came to keep the change counter their block was computed with: the pushes in flight when
 * the migration runs get theirs from their card, which their claim compared it with.
 */
describe('the D1 pin pushes migration', () => {
  const database = databaseBeforeMigration(PUSHES_MIGRATION, 'pinflow_d1_pin_pushes');

  it('records each push in flight with its card’s counter, and no card that holds none', async () => {
    const inFlight = randomUUID();
    await database.db.query(
      `INSERT INTO d1_pin_change_counters (issuer_id, card_id, change_counter, in_flight_command_id, in_flight_since)
       VALUES ('ISSUER0001', 'card-held', 3, $1, now()), ('ISSUER0001', 'card-free', 5, NULL, NULL)`,
      [inFlight],
    );

    await database.migrate();

    const { rows } = await database.db.query(`SELECT command_id, issuer_id, card_id, change_counter::int FROM d1_pin_pushes`);
    expect(rows).toEqual([{ command_id: inFlight, issuer_id: 'ISSUER0001', card_id: 'card-held', change_counter: 3 }]);
  });
});
