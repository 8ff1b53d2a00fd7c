import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { freePort } from '@pinflow/testing';
import { EmbeddedPostgres, startEmbeddedPostgres } from './postgres-embedded';

describe("npm start's embedded PostgreSQL", () => {
  let stateDir: string;
  const running: EmbeddedPostgres[] = [];
  const start = async (port?: number) => {
    const database = await startEmbeddedPostgres(stateDir, port ?? (await freePort()));
    running.push(database);
    return database;
  };
  const query = async (url: string, sql: string, values: unknown[] = []) => {
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      return (await pool.query(sql, values)).rows;
    } finally {
      await pool.end();
    }
  };

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-embedded-'));
    // Reachable by the `postgres` user, as a checkout is.
    chmodSync(stateDir, 0o755);
  });
  afterEach(async () => {
    for (const database of running.splice(0)) await database.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves concurrent sessions independently, each with its own prepared statements', async () => {
    const { url } = await start();
    const pool = new Pool({ connectionString: url, max: 10 });
    try {
      // Statements of different arity, interleaved across connections: one shared session mixes them up.
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, index) => {
          const values = Array.from({ length: (index % 9) + 1 }, (__, position) => index * 100 + position);
          const sum = values.map((_value, position) => `$${position + 1}::int`).join(' + ');
          return pool.query<{ total: number }>(`SELECT ${sum} AS total`, values).then(({ rows }) => rows[0].total);
        }),
      );
      expect(results).toEqual(Array.from({ length: 60 }, (_, index) => Array.from({ length: (index % 9) + 1 }, (__, position) => index * 100 + position).reduce((a, b) => a + b)));
    } finally {
      await pool.end();
    }
  });

  it('keeps its data from one start to the next, on whatever port it is given', async () => {
    const first = await start();
    await query(first.url, 'CREATE TABLE kept (note text)');
    await query(first.url, 'INSERT INTO kept VALUES ($1)', ['still here']);
    await first.stop();

    const second = await start();
    expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'still here' }]);
  });

  it('stops a server that a crashed start command left running on its data, and starts on that data', async () => {
    const abandoned = await start();
    await query(abandoned.url, 'CREATE TABLE kept (note text)');

    const next = await start();
    expect(await query(next.url, 'SELECT count(*)::int AS notes FROM kept')).toEqual([{ notes: 0 }]);
    await expect(query(abandoned.url, 'SELECT 1')).rejects.toThrow();
  });

  it('starts after its server was killed, past the postmaster.pid it left', async () => {
    const killed = await start();
    await query(killed.url, 'CREATE TABLE kept (note text)');
    const postmaster = Number(readFileSync(path.join(killed.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');

    const next = await start();
    expect(await query(next.url, 'SELECT count(*)::int AS notes FROM kept')).toEqual([{ notes: 0 }]);
  });
});
