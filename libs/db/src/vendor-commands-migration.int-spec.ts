import { randomUUID } from 'node:crypto';
import { databaseBeforeMigration } from './migrations.spec-support';

const MIGRATION = '20261124000000_vendor_commands';

describe(`migration ${MIGRATION}`, () => {
  const database = databaseBeforeMigration(MIGRATION, 'pinflow_ledger');

  it('moves every row of pismo_commands and pismo_event_receipts over as Pismo’s, then drops them', async () => {
    const changePin = { id: randomUUID(), request: randomUUID() };
    const increase = { id: randomUUID(), request: randomUUID() };
    const outcome = { type: 'pinflow.card.password_tries.increased', subject: 'card-2' };
    await database.db.query(
      `INSERT INTO pismo_commands (command_id, request_id, card_id, operation, state, correlation_id, attempts, vendor_status, sync_offline_pin, updated_at)
       VALUES ($1, $2, 'card-1', 'change_pin', 'AWAITING_VENDOR_EVENT', 'cid-1', 2, 201, true, '2026-11-20T10:00:00Z')`,
      [changePin.id, changePin.request],
    );
    await database.db.query(
      `INSERT INTO pismo_commands (command_id, request_id, card_id, operation, state, correlation_id, attempts, vendor_status, outcome_event, outcome_published_at, updated_at)
       VALUES ($1, $2, 'card-2', 'increase_password_tries', 'SUCCEEDED', $3, 1, 200, $4, '2026-11-20T10:00:01Z', '2026-11-20T10:00:01Z')`,
      [increase.id, increase.request, increase.id, JSON.stringify(outcome)],
    );
    await database.db.query(`INSERT INTO pismo_event_receipts (event_id, event_type, received_at) VALUES ('e-1', 'update_password-1', '2026-11-20T10:00:02Z')`);

    await database.migrateThisOnly();

    const commands = await database.db.query('SELECT * FROM vendor_commands ORDER BY card_id');
    expect(commands.rows).toEqual([
      {
        command_id: changePin.id,
        vendor: 'pismo',
        request_id: changePin.request,
        card_id: 'card-1',
        operation: 'change_pin',
        state: 'AWAITING_VENDOR_EVENT',
        correlation_id: 'cid-1',
        attempts: 2,
        vendor_status: 201,
        details: { syncOfflinePin: true },
        outcome_event: null,
        outcome_published_at: null,
        created_at: expect.any(Date),
        updated_at: new Date('2026-11-20T10:00:00Z'),
      },
      expect.objectContaining({ command_id: increase.id, vendor: 'pismo', state: 'SUCCEEDED', details: null, outcome_event: outcome, outcome_published_at: new Date('2026-11-20T10:00:01Z') }),
    ]);
    expect((await database.db.query('SELECT * FROM vendor_event_receipts')).rows).toEqual([
      { vendor: 'pismo', event_id: 'e-1', event_type: 'update_password-1', received_at: new Date('2026-11-20T10:00:02Z') },
    ]);
    const pismoTables = await database.db.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'pismo_%'`);
    expect(pismoTables.rows).toEqual([]);
  });
});
