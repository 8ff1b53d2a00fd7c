import { DEV_AUDIENCE, DEV_ISSUER } from '@pinflow/auth';
import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { appEntry, freePort, ServiceProcess, waitForReady } from '@pinflow/testing';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevSecrets, loadOrCreateDevSecrets } from './secrets';

export const VENDOR_NAMES = ['pismo', 'solaris', 'thales-d1', 'vault'] as const;
export const SANDBOXES = VENDOR_NAMES.map((vendor) => `sandbox-${vendor}` as const);
export const WORKERS = VENDOR_NAMES.map((vendor) => `worker-${vendor}` as const);
/** Vendors first, front door last: the order things start in (and the reverse of how they stop). */
export const APPS = [...SANDBOXES, ...WORKERS, 'audit', 'intake'] as const;
export type AppName = (typeof APPS)[number];

export const PISMO_EVENTS_TOPIC = 'pismo.events';
export const SANDBOX_CLIENT_ID = 'pinflow';
export const SANDBOX_CLIENT_SECRET = 'sandbox-secret';
/** The issuer the Thales D1 sandbox (a card management system) serves. */
export const THALES_D1_ISSUER_ID = 'ISSUER0001';

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
  /** SIGKILL: a crash mid-whatever-it-was-doing, for failure drills; `start` brings the app back. */
  kill(app: AppName): Promise<void>;
  /** Starts an app that was killed or stopped, and waits until it is ready. */
  start(app: AppName): Promise<void>;
  stop(): Promise<void>;
}

/** How each app is wired to the others: its environment, given everyone's URLs. */
function environments(options: StackOptions, secrets: DevSecrets, urls: Record<AppName, string>, cmsKeyFile: string): Record<AppName, Record<string, string>> {
  const database = { DATABASE_URL: options.databaseUrl };
  const pinKeys = { PIN_KEYS_FILE: secrets.pinKeysFile };
  const auth = { AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE, AUTH_PUBLIC_KEY_FILE: secrets.authPublicKeyFile };
  const sandboxClient = { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET };
  const vendorClient = (prefix: string, tokenPath: string, sandbox: AppName) => ({
    [`${prefix}_TOKEN_URL`]: `${urls[sandbox]}${tokenPath}`,
    [`${prefix}_CLIENT_ID`]: SANDBOX_CLIENT_ID,
    [`${prefix}_CLIENT_SECRET`]: SANDBOX_CLIENT_SECRET,
  });
  const solarisClient = { SOLARIS_BASE_URL: urls['sandbox-solaris'], ...vendorClient('SOLARIS', '/oauth2/token', 'sandbox-solaris') };
  return {
    'sandbox-pismo': { PISMO_EVENTS_TOPIC, ...sandboxClient },
    'sandbox-solaris': sandboxClient,
    'sandbox-thales-d1': { D1_ISSUER_ID: THALES_D1_ISSUER_ID, ...sandboxClient },
    'sandbox-vault': sandboxClient,
    'worker-pismo': {
      ...database,
      ...pinKeys,
      PISMO_PCI_BASE_URL: urls['sandbox-pismo'],
      PISMO_API_BASE_URL: urls['sandbox-pismo'],
      PISMO_EVENTS_TOPIC,
      ...vendorClient('PISMO', '/passport/v1/oauth2/token', 'sandbox-pismo'),
    },
    'worker-solaris': { ...database, ...solarisClient },
    'worker-thales-d1': {
      ...database,
      ...pinKeys,
      THALES_D1_BASE_URL: urls['sandbox-thales-d1'],
      THALES_D1_CMS_PUBLIC_KEY_FILE: cmsKeyFile,
      ...vendorClient('THALES_D1', '/authz/d1/v1/oauth2/token', 'sandbox-thales-d1'),
    },
    'worker-vault': { ...database, ...pinKeys, VAULT_BASE_URL: urls['sandbox-vault'], ...vendorClient('VAULT', '/v2/auth/token', 'sandbox-vault') },
    audit: { ...database, ...auth },
    intake: { ...database, ...pinKeys, ...auth, ...solarisClient, INTAKE_PUBLIC_BASE_URL: urls.intake },
  };
}

/**
 * The whole platform as separate OS processes wired together: every vendor's sandbox and worker,
 * audit and intake. Shared by the start command, the end-to-end tests and the benchmark, so all
 * three run the same thing.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const secrets = await loadOrCreateDevSecrets(options.stateDir);
  await migrateDeploy(options.databaseUrl, defaultMigrationsDir());

  const ports = {} as Record<AppName, number>;
  for (const app of APPS) ports[app] = options.ports?.[app] ?? (await freePort());
  const urls = Object.fromEntries(APPS.map((app) => [app, `http://127.0.0.1:${ports[app]}`])) as Record<AppName, string>;
  const cmsKeyFile = path.join(options.stateDir, 'thales-d1-cms-key.json');
  const env = environments(options, secrets, urls, cmsKeyFile);
  const common = { HOST: '127.0.0.1', LOG_LEVEL: options.logLevel ?? 'info', KAFKA_BROKERS: options.kafkaBrokers };
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
    // Sandboxes first: workers need their vendor's topics and keys.
    await startAll(selected.filter((app) => app.startsWith('sandbox-')));
    if (selected.includes('sandbox-thales-d1')) {
      // In production the card management system's key is exchanged at onboarding.
      const key = await fetch(`${urls['sandbox-thales-d1']}/sandbox/encryption-key`).then((response) => response.text());
      writeFileSync(cmsKeyFile, key);
    }
    await startAll(selected.filter((app) => !app.startsWith('sandbox-')));
  } catch (error) {
    await stop();
    throw error;
  }
  const start = async (app: AppName) => {
    services[app].start();
    await waitForReady(services[app], urls[app], 90_000);
  };
  return {
    urls,
    services,
    secrets,
    restart: async (app) => {
      await services[app].stop();
      await start(app);
    },
    kill: (app) => services[app].kill(),
    start,
    stop,
  };
}
