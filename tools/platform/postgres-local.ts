import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '@pinflow/testing';

const execFileAsync = promisify(execFile);

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

/** PINFLOW_POSTGRES_BIN, or the newest /usr/lib/postgresql/<version>/bin (Debian's layout). */
function binDir(): string {
  const configured = process.env.PINFLOW_POSTGRES_BIN;
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(path.join(root, version, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (apt-get install postgresql, or set PINFLOW_POSTGRES_BIN)`);
  return path.join(root, versions[0], 'bin');
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temporary directory, on a free loopback port),
 * for drills that restart the database: the machine's server is never touched. PostgreSQL refuses to
 * run as root, so as root its tools run as the `postgres` OS user.
 */
export async function startLocalPostgres(options: { database?: string } = {}): Promise<LocalPostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-postgres-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const tool = async (name: string, args: string[]) => {
    const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, name), ...args]] : [path.join(bin, name), args];
    try {
      await execFileAsync(command, commandArgs, { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`${name} ${args[0]} failed (log: ${logFile}): ${stderr?.trim() || String(error)}`, { cause: error });
    }
  };
  const start = () => tool('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile]);
  const stopServer = (mode: 'fast' | 'immediate') => tool('pg_ctl', ['stop', '-w', '-t', '60', '-m', mode, '-D', dataDir]);

  const port = await freePort();
  await tool('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  // Loopback only, its socket in its own directory; fsync off since nothing here must survive the machine.
  appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${dir}'`, 'fsync = off', 'max_connections = 300', ''].join('\n'),
  );
  await start();

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
    dataDir,
    restart: async ({ mode = 'fast', downMs = 0 } = {}) => {
      await stopServer(mode);
      await sleep(downMs);
      await start();
    },
    stop: async () => {
      await stopServer('fast').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
