import {
  APPS,
  AppName,
  KAFKA_ADMIN_PRINCIPAL,
  LocalPostgres,
  PinChangeScenarios,
  SecuredLocalKafkaCluster,
  Stack,
  startLocalPostgres,
  startSecuredLocalKafkaCluster,
  startStack,
  VENDOR_NAMES,
  VendorName,
  vendorPlatform,
} from '@pinflow/platform';
import { Kafka } from 'kafkajs';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';

/**
 * Everything a drill runs against: a 3-node Kafka cluster (SASL_SSL only, each service as its own
 * principal under KAFKA_GRANTS' ACLs), its own PostgreSQL, the services and the vendors' sandboxes.
 */
export interface DrillEnvironment {
  vendors: readonly VendorName[];
  cluster: SecuredLocalKafkaCluster;
  /** A client of the cluster as its super user, for what the drill itself reads (leaders, dead letters). */
  kafkaAdmin(): Kafka;
  postgres: LocalPostgres;
  stack: Stack;
  /** The apps this environment runs: the chosen vendors' sandboxes and workers, audit and intake. */
  apps: readonly AppName[];
  sandbox(vendor: VendorName): SandboxClient;
  /** Builds valid requests for seeded cards, as each vendor's callers do. */
  requests: PinChangeScenarios;
  /** A caller's token for intake. */
  writeToken: string;
  /** The drill's database, for reading the audit trail. */
  db: Pool;
  logDir: string;
  /** Brings back whatever a scenario left down and resets every sandbox (cards, records, knobs). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface DrillEnvironmentOptions {
  vendors: readonly VendorName[];
  /** Service logs and the keys of the stack. */
  workDir: string;
  logLevel?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export function drillApps(vendors: readonly VendorName[]): AppName[] {
  return APPS.filter((app) => app === 'audit' || app === 'intake' || vendors.some((vendor) => app === `sandbox-${vendor}` || app === `worker-${vendor}`));
}

/**
 * Starts the drills' own infrastructure (never the machine's PostgreSQL or a shared broker, since the
 * drills kill them) and the stack on it, with every topic replicated three times.
 */
export async function startDrillEnvironment(options: DrillEnvironmentOptions): Promise<DrillEnvironment> {
  const log = options.log ?? (() => undefined);
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error) => log(`cleanup failed: ${String(error)}`));
  };
  try {
    log('starting a 3-node Kafka cluster and a throwaway PostgreSQL');
    const [cluster, postgres] = await Promise.all([
      startSecuredLocalKafkaCluster({ nodes: 3 }).then((started) => (cleanups.push(() => started.stop()), started)),
      startLocalPostgres().then((started) => (cleanups.push(() => started.stop()), started)),
    ]);
    const apps = drillApps(options.vendors);
    const logDir = path.join(options.workDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    log(`starting ${apps.join(', ')} (logs in ${logDir})`);
    const replicated = { KAFKA_REPLICATION_FACTOR: String(cluster.nodes) };
    // Each vendor's worker with its drill settings (e.g. a vendor event's timeout well inside a recovery window).
    const appEnv = (app: AppName) => {
      const vendor = VENDOR_NAMES.find((name) => app === `worker-${name}`);
      // One caller (the drill) sends the whole stream: the per-caller rate limit would refuse the drill, not test intake.
      const intake = app === 'intake' ? { AUTH_RATE_LIMIT: String(Number.MAX_SAFE_INTEGER) } : {};
      return { ...cluster.appEnv()[app], ...replicated, ...intake, ...(vendor && vendorPlatform(vendor).drillWorkerEnv) };
    };
    const stack = await startStack({
      kafkaBrokers: cluster.brokers,
      databaseUrl: postgres.url,
      stateDir: path.join(options.workDir, 'state'),
      logDir,
      logLevel: options.logLevel ?? 'info',
      apps,
      env: Object.fromEntries(apps.map((app) => [app, appEnv(app)])),
    });
    cleanups.push(() => stack.stop());
    const db = new Pool({ connectionString: postgres.url, max: 2 });
    // Idle connections die when a drill restarts PostgreSQL; the pool replaces them.
    db.on('error', () => undefined);
    cleanups.push(() => db.end());
    const writeToken = await stack.secrets.token(['pin:write'], { subject: 'drills', expiresIn: '12h' });
    const sandboxes = new Map(options.vendors.map((vendor) => [vendor, new SandboxClient(stack.urls[`sandbox-${vendor}`])]));
    const sandbox = (vendor: VendorName) => sandboxes.get(vendor)!;
    return {
      vendors: options.vendors,
      cluster,
      // The machine is saturated by design during a drill: a SASL_SSL connection may take seconds, and
      // kafkajs' 1 s connection timeout once made a drill give up before injecting its fault.
      kafkaAdmin: () => new Kafka({ ...cluster.clientConfig(KAFKA_ADMIN_PRINCIPAL), clientId: 'drills', connectionTimeout: 10_000, retry: { retries: 10 } }),
      postgres,
      stack,
      apps,
      sandbox,
      requests: new PinChangeScenarios(stack, writeToken),
      writeToken,
      db,
      logDir,
      reset: async () => {
        for (const app of apps) if (!stack.services[app].isRunning()) await stack.start(app);
        for (const vendor of options.vendors) {
          const answer = await sandbox(vendor).call('POST', '/sandbox/reset');
          if (answer.status >= 300) throw new Error(`sandbox-${vendor} refused a reset: ${answer.status}`);
        }
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
