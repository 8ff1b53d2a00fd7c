import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from '@pinflow/testing';
import { makePostgresDir, PostgresServer } from './postgres-server';

export interface LocalPostgres {
  /** The drill's database on this server. */
  url: string;
  port: number;
  dataDir: string;
  /**
   * Stops the server (`fast`: sessions cut, a clean shutdown; `immediate`: a crash, recovered from the
   * WAL on start), keeps it down for `downMs`, starts it again and waits until it accepts connections.
   */
  restart(options?: { mode?: 'fast' | 'immediate'; downMs?: number }): Promise<void>;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temporary directory, on a free loopback port),
 * for drills that restart the database: the machine's server is never touched.
 */
export async function startLocalPostgres(options: { database?: string } = {}): Promise<LocalPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-postgres-'));
  makePostgresDir(dir);
  const server = new PostgresServer(path.join(dir, 'data'), path.join(dir, 'postgres.log'));
  const port = await freePort();
  // Its socket in its own directory; fsync off since nothing here must survive the machine.
  await server.init({ port, listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', max_connections: 300 }, ['--no-sync']);
  await server.start();

  const database = options.database ?? 'pinflow';
  const admin = new Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
    port,
    dataDir: server.dataDir,
    restart: async ({ mode = 'fast', downMs = 0 } = {}) => {
      await server.stop(mode);
      await sleep(downMs);
      await server.start();
    },
    stop: async () => {
      await server.stop('fast').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
