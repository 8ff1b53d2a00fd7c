import { databaseBeforeMigration } from './migrations.spec-support';

const HISTORY_MIGRATION = '20261205100400_dead_letter_replay_history';

/** dead_letter_replays became a history: the replays recorded before that stay, each as its letter's first. */
describe('the dead-letter replay history migration', () => {
  const database = databaseBeforeMigration(HISTORY_MIGRATION, 'pinflow_replay_history');

  it('keeps the replays recorded before it as first replays, and takes a second replay of the same letter', async () => {
    await database.db.query(
      `INSERT INTO dead_letter_replays (topic, "partition", "offset", source_topic, replayed_by, replayed_at)
       VALUES ('pinflow.deadletter.v1', 0, 12, 'pinflow.commands.pismo.v1', 'alice', '2026-12-01T10:00:00Z')`,
    );

    await database.migrate();
    await database.db.query(
      `INSERT INTO dead_letter_replays (topic, "partition", "offset", sequence, source_topic, replayed_by) VALUES ('pinflow.deadletter.v1', 0, 12, 2, 'pinflow.commands.pismo.v1', 'bob')`,
    );

    const { rows } = await database.db.query(`SELECT sequence, replayed_by AS "replayedBy" FROM dead_letter_replays WHERE "offset" = 12 ORDER BY sequence`);
    expect(rows).toEqual([
      { sequence: 1, replayedBy: 'alice' },
      { sequence: 2, replayedBy: 'bob' },
    ]);
    await expect(
      database.db.query(`INSERT INTO dead_letter_replays (topic, "partition", "offset", sequence, source_topic, replayed_by) VALUES ('pinflow.deadletter.v1', 0, 12, 1, 'x', 'carol')`),
    ).rejects.toThrow(/dead_letter_replays_pkey/);
  });

  it('lets audit append to the history and delete a failed claim, never rewrite an entry', async () => {
    const { rows } = await database.db.query<{ privilege_type: string }>(
      `SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = 'pinflow_audit_writer' AND table_name = 'dead_letter_replays' ORDER BY privilege_type`,
    );
    expect(rows.map((row) => row.privilege_type)).toEqual(['DELETE', 'INSERT', 'SELECT']);
  });
});
