import { DEV_AUDIENCE, DEV_ISSUER } from '@pinflow/auth';
import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { appEntry, freePort, ServiceProcess, waitForReady } from '@pinflow/testing';
import type { Vendor } from '@pinflow/contracts';
import { INTAKE_SIGNER, workerSigner } from '@pinflow/kafka';
import path from 'node:path';
import { DevSecrets, loadOrCreateDevSecrets } from './secrets';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, VendorPlatform, VendorWiring } from './vendor-platform';
import { VENDOR_PLATFORMS } from './vendors';

export { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET } from './vendor-platform';
export { PISMO_EVENTS_TOPIC, THALES_D1_ISSUER_ID } from './vendors';

export type VendorName = Vendor;
export const VENDOR_NAMES: readonly VendorName[] = VENDOR_PLATFORMS.map((platform) => platform.contract.name);
type SandboxName = `sandbox-${VendorName}`;
type WorkerName = `worker-${VendorName}`;
export const SANDBOXES = VENDOR_NAMES.map((vendor): SandboxName => `sandbox-${vendor}`);
export const WORKERS = VENDOR_NAMES.map((vendor): WorkerName => `worker-${vendor}`);
/** Vendors first, front door last: the order things start in (and the reverse of how they stop). */
export const APPS: readonly AppName[] = [...SANDBOXES, ...WORKERS, 'audit', 'intake'];
export type AppName = SandboxName | WorkerName | 'audit' | 'intake';

/** What the platform knows of a vendor (./vendors). */
export function vendorPlatform(vendor: VendorName): VendorPlatform {
  const platform = VENDOR_PLATFORMS.find((candidate) => candidate.contract.name === vendor);
  if (!platform) throw new Error(`unknown vendor ${vendor}`);
  return platform as VendorPlatform;
}

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

/** How a vendor's sandbox and worker are wired, given everyone's URLs. */
function vendorWiring(options: StackOptions, urls: Record<AppName, string>, vendor: VendorName): VendorWiring {
  const sandboxUrl = urls[`sandbox-${vendor}`];
  return {
    sandboxUrl,
    stateDir: options.stateDir,
    oauthClient: (prefix, tokenPath) => ({
      [`${prefix}_TOKEN_URL`]: `${sandboxUrl}${tokenPath}`,
      [`${prefix}_CLIENT_ID`]: SANDBOX_CLIENT_ID,
      [`${prefix}_CLIENT_SECRET`]: SANDBOX_CLIENT_SECRET,
    }),
  };
}

/** How each app is wired to the others: its environment, given everyone's URLs. */
function environments(options: StackOptions, secrets: DevSecrets, urls: Record<AppName, string>): Record<AppName, Record<string, string>> {
  const database = { DATABASE_URL: options.databaseUrl };
  const commandPublicKeys = Object.fromEntries(Object.entries(secrets.commandKeys).map(([vendor, keys]) => [vendor, keys.publicFile]));
  const auth = { AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE, AUTH_PUBLIC_KEY_FILE: secrets.authPublicKeyFile };
  const { signingKeyFiles, signersFile } = secrets.messageKeys;
  const messageKeys = (signer: string) => ({ MESSAGE_SIGNING_KEY_FILE: signingKeyFiles[signer], MESSAGE_SIGNERS_FILE: signersFile });
  const env: Partial<Record<AppName, Record<string, string>>> = {
    audit: { ...database, ...auth, MESSAGE_SIGNERS_FILE: signersFile },
    intake: {
      ...database,
      PIN_KEYS_FILE: secrets.pinKeysFile,
      COMMAND_KEYS_FILES: JSON.stringify(commandPublicKeys),
      ...auth,
      ...messageKeys(INTAKE_SIGNER),
      INTAKE_PUBLIC_BASE_URL: urls.intake,
    },
  };
  for (const platform of VENDOR_PLATFORMS) {
    const vendor = platform.contract.name;
    const wiring = vendorWiring(options, urls, vendor);
    env[`sandbox-${vendor}`] = platform.sandboxEnv(wiring);
    const commandKeys = secrets.commandKeys[vendor];
    env[`worker-${vendor}`] = { ...database, ...(commandKeys ? { COMMAND_KEYS_FILE: commandKeys.file } : {}), ...messageKeys(workerSigner(vendor)), ...platform.workerEnv(wiring) };
    Object.assign(env.intake!, platform.intakeEnv?.(wiring));
  }
  return env as Record<AppName, Record<string, string>>;
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
  const env = environments(options, secrets, urls);
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
    for (const platform of VENDOR_PLATFORMS) {
      if (selected.includes(`sandbox-${platform.contract.name}`)) await platform.onboard?.(vendorWiring(options, urls, platform.contract.name));
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
