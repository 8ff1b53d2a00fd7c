import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appEntry } from './paths';
import { freePort } from './ports';
import { ServiceProcess, waitForReady } from './processes';

/** A built app running as its own process for a test. */
export interface RunningApp {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Everything the app wrote to stdout and stderr. */
  logFile: string;
  /** Stops the app and deletes its directory, log included. */
  stop(): Promise<void>;
}

/**
 * Starts a built app (`dist/apps/<app>`) on a free loopback port, its log in a fresh directory, and
 * waits until it is ready. It logs at the most talkative level unless `env` says otherwise, so that a
 * search of its log for secrets covers every line it can write.
 */
export async function startAppProcess(app: string, env: Record<string, string> = {}): Promise<RunningApp> {
  const work = mkdtempSync(path.join(os.tmpdir(), `pinflow-${app}-`));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = new ServiceProcess(app, appEntry(app), { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'trace', ...env }, path.join(work, `${app}.log`));
  service.start();
  try {
    await waitForReady(service, baseUrl);
  } catch (error) {
    // The log stays: the error points at it.
    await service.stop();
    throw error;
  }
  return {
    baseUrl,
    logFile: service.logFile,
    stop: async () => {
      await service.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
