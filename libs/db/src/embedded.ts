import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite) behind a wire-protocol socket: a zero-install database
 * for the start command and demos. Not for production: all connections share one session.
 * A lock file keeps a second process from opening the same data directory.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
  if (existsSync(lockFile)) {
    const owner = Number(readFileSync(lockFile, 'utf8'));
    if (owner && processIsAlive(owner)) throw new Error(`embedded PostgreSQL data in ${dataDir} is in use by process ${owner}`);
    rmSync(lockFile);
  }
  closeSync(openSync(lockFile, 'wx'));
  writeFileSync(lockFile, String(process.pid));

  // PGlite ships only as ES modules.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 50 });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    stop: async () => {
      await server.stop();
      await db.close();
      rmSync(lockFile, { force: true });
    },
  };
}
