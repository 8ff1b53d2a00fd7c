import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { makePostgresDir, postgresCanReach, PostgresServer } from './postgres-server';

export interface EmbeddedPostgres {
  url: string;
  /** The server's own directory: its data and its log. */
  dir: string;
  stop(): Promise<void>;
}

const DATABASE = 'pinflow';

/**
 * `<stateDir>/postgres`, owned by the user PostgreSQL runs as. Where that user cannot reach the state
 * directory (as root, a checkout in root's home) the server's files live in the temporary directory
 * instead, linked from there; a fresh state directory starts them afresh. Returns where they really
 * are, the path the `postgres` user can take.
 */
function serverDir(stateDir: string): string {
  const dir = path.join(stateDir, 'postgres');
  mkdirSync(stateDir, { recursive: true });
  if (existsSync(dir)) return realpathSync(dir);
  if (postgresCanReach(stateDir)) {
    makePostgresDir(dir);
    return dir;
  }
  const elsewhere = path.join(os.tmpdir(), `pinflow-postgres-${createHash('sha256').update(realpathSync(stateDir)).digest('hex').slice(0, 12)}`);
  rmSync(elsewhere, { recursive: true, force: true });
  makePostgresDir(elsewhere);
  symlinkSync(elsewhere, dir);
  return elsewhere;
}

/**
 * The start command's database: a real PostgreSQL server from the binaries npm installed, on one
 * loopback port, its data kept in `<stateDir>/postgres` from one run to the next. The caller must be
 * the state directory's only user (the start command holds its lock): whatever a crashed run left
 * running on this data is stopped first.
 */
export async function startEmbeddedPostgres(stateDir: string, port: number): Promise<EmbeddedPostgres> {
  const dir = serverDir(stateDir);
  const server = new PostgresServer(path.join(dir, 'data'), path.join(dir, 'postgres.log'));
  if (server.initialised) await server.recoverFromCrash();
  // TCP on loopback only. Every service's pool together stays far below max_connections.
  else await server.init({ listen_addresses: '127.0.0.1', unix_socket_directories: '', max_connections: 200 });
  await server.start(port);

  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  try {
    await admin.connect();
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } catch (error) {
    await server.stop('fast').catch(() => undefined);
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
  return { url: `postgresql://postgres@127.0.0.1:${port}/${DATABASE}`, dir, stop: () => server.stop('fast') };
}
