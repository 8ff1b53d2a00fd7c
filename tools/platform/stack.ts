import path from 'node:path';
import { migrateDeploy, defaultMigrationsDir } from '@pinflow/db';
import { appEntry, freePort, ServiceProcess, waitForReady } from '@pinflow/testing';
import { DEV_AUDIENCE, DEV_ISSUER } from '@pinflow/auth';
import { DevSecrets, loadOrCreateDevSecrets } from './secrets';

export const APPS = ['sandbox-pismo', 'worker-pismo', 'audit', 'intake'] as const;
export type AppName = (typeof APPS)[number];

export const PISMO_EVENTS_TOPIC = 'pismo.events';
export const SANDBOX_CLIENT_ID = 'pinflow';
export const SANDBOX_CLIENT_SECRET = 'sandbox-secret';

export interface StackOptions {
  kafkaBrokers: string;
  databaseUrl: string;
  /** Keys and other state that survive restarts. */
  stateDir: string;
  logDir: string;
  /** Fixed ports (start command) or free ones (tests). */
  ports?: Partial<Record<AppName, number>>;
  logLevel?: string;
  /** Extra environment per app, e.g. tighter retry settings in tests. */
  env?: Partial<Record<AppName, Record<string, string>>>;
  /** Start only these apps (default: all); the others' URLs are still assigned. */
  apps?: readonly AppName[];
}

export interface Stack {
  urls: Record<AppName, string>;
  services: Record<AppName, ServiceProcess>;
  secrets: DevSecrets;
  restart(app: AppName): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole Pismo path as separate OS processes wired together: sandbox, worker, audit, intake.
 * Shared by the start command, the end-to-end tests and the benchmark, so all three run the same thing.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const secrets = await loadOrCreateDevSecrets(options.stateDir);
  await migrateDeploy(options.databaseUrl, defaultMigrationsDir());

  const ports = {} as Record<AppName, number>;
  for (const app of APPS) ports[app] = options.ports?.[app] ?? (await freePort());
  const urls = Object.fromEntries(APPS.map((app) => [app, `http://127.0.0.1:${ports[app]}`])) as Record<AppName, string>;

  const common = {
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'info',
    KAFKA_BROKERS: options.kafkaBrokers,
  };
  const auth = { AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE, AUTH_PUBLIC_KEY_FILE: secrets.authPublicKeyFile };
  const env: Record<AppName, Record<string, string>> = {
    'sandbox-pismo': { PISMO_EVENTS_TOPIC, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET },
    'worker-pismo': {
      DATABASE_URL: options.databaseUrl,
      PIN_KEYS_FILE: secrets.pinKeysFile,
      PISMO_PCI_BASE_URL: urls['sandbox-pismo'],
      PISMO_API_BASE_URL: urls['sandbox-pismo'],
      PISMO_TOKEN_URL: `${urls['sandbox-pismo']}/passport/v1/oauth2/token`,
      PISMO_CLIENT_ID: SANDBOX_CLIENT_ID,
      PISMO_CLIENT_SECRET: SANDBOX_CLIENT_SECRET,
      PISMO_EVENTS_TOPIC,
    },
    audit: { DATABASE_URL: options.databaseUrl, ...auth },
    intake: { DATABASE_URL: options.databaseUrl, PIN_KEYS_FILE: secrets.pinKeysFile, INTAKE_PUBLIC_BASE_URL: urls.intake, ...auth },
  };

  const services = Object.fromEntries(
    APPS.map((app) => [
      app,
      new ServiceProcess(app, appEntry(app), { ...common, PORT: String(ports[app]), ...env[app], ...options.env?.[app] }, path.join(options.logDir, `${app}.log`)),
    ]),
  ) as Record<AppName, ServiceProcess>;

  const selected = APPS.filter((app) => !options.apps || options.apps.includes(app));
  const stop = async () => {
    // Front door first, vendors last: nothing new enters while the rest drains.
    for (const app of [...selected].reverse()) await services[app].stop();
  };
  const startAll = async (apps: AppName[]) => {
    for (const app of apps) services[app].start();
    await Promise.all(apps.map((app) => waitForReady(services[app], urls[app], 90_000)));
  };
  try {
    // Sandboxes first: a worker's readiness needs its vendor's event topic to exist.
    await startAll(selected.filter((app) => app.startsWith('sandbox-')));
    await startAll(selected.filter((app) => !app.startsWith('sandbox-')));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls,
    services,
    secrets,
    restart: async (app) => {
      await services[app].stop();
      services[app].start();
      await waitForReady(services[app], urls[app], 90_000);
    },
    stop,
  };
}
