import { repoRoot } from '@pinflow/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { d1Inbound, Demo } from './demo';
import { LocalKafka, startLocalKafka } from './kafka';
import { KAFKA_ADMIN_PRINCIPAL, startSecuredLocalKafka } from './kafka-secured';
import { localPorts } from './local-ports';
import { startEmbeddedPostgres } from './postgres-embedded';
import { APPS, StackOptions, startStack } from './stack';

/**
 * `npm start`: the platform on embedded defaults (a local Kafka broker from Maven Central's jars and a
 * PostgreSQL server from npm's binaries, unless KAFKA_BROKERS / DATABASE_URL say otherwise), then one
 * PIN change per vendor through it, each vendor's other operations, and one PIN Thales D1 pushes into it
 * (./demo.ts). `npm start -- --once` stops after those. With
 * PINFLOW_KAFKA_SECURED=1 the local broker speaks SASL_SSL only, each service as its own principal.
 */
const stateDir = path.join(repoRoot, '.pinflow');
const { kafka: KAFKA_PORT, kafkaController: KAFKA_CONTROLLER_PORT, postgres: POSTGRES_PORT, apps: ports } = localPorts();

/**
 * The local broker on SASL_SSL, each app's settings for it, and the super user's in admin.env for the
 * operator's tools: `env $(cat .pinflow/kafka/admin.env) npm run dlq -- list`.
 */
async function startSecuredKafka(options: { port: number; controllerPort: number; stateDir: string }): Promise<{ kafka: LocalKafka; env: NonNullable<StackOptions['env']> }> {
  const kafka = await startSecuredLocalKafka(options);
  const admin = kafka.settingsOf(KAFKA_ADMIN_PRINCIPAL);
  writeFileSync(path.join(options.stateDir, 'admin.env'), Object.entries(admin).map(([name, value]) => `${name}=${value}\n`).join(''), { mode: 0o600 });
  return { kafka, env: kafka.appEnv() };
}

/**
 * One start command at a time per state directory: a second one would wipe the running broker's data
 * and share its database files. The lock expires a few seconds after its holder dies.
 */
async function lockStateDir(): Promise<() => Promise<void>> {
  mkdirSync(stateDir, { recursive: true });
  const lockfilePath = path.join(stateDir, 'start.lock');
  try {
    return await lock(stateDir, {
      lockfilePath,
      onCompromised: (error) => console.error(`lost the lock on ${stateDir}: ${error.message}`),
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'ELOCKED') throw error;
    throw new Error(`another npm start is running on ${stateDir} (${lockfilePath}): stop it first (Ctrl-C), or wait 10 s if it has just crashed`, { cause: error });
  }
}

/** Resolves on the first Ctrl-C or SIGTERM, from the moment the command starts. */
const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
});

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  const cleanups: (() => Promise<void>)[] = [];
  const shutdown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(error));
  };
  // A signal while starting stops what has started so far, instead of leaving it running.
  const interruptible = <T>(step: Promise<T>): Promise<T> =>
    Promise.race([
      step,
      stopRequested.then((signal) => {
        throw new Error(`stopped by ${signal} while starting`);
      }),
    ]);

  try {
    cleanups.push(await interruptible(lockStateDir()));
    let kafkaBrokers = process.env.KAFKA_BROKERS;
    let kafkaEnv: NonNullable<StackOptions['env']> = {};
    if (!kafkaBrokers) {
      const secured = process.env.PINFLOW_KAFKA_SECURED === '1';
      console.log(`starting a local Kafka broker on 127.0.0.1:${KAFKA_PORT}${secured ? ' (SASL_SSL, with ACLs)' : ''} (first run fetches its jars through Maven)`);
      const options = { port: KAFKA_PORT, controllerPort: KAFKA_CONTROLLER_PORT, stateDir: path.join(stateDir, 'kafka') };
      const started = await interruptible(secured ? startSecuredKafka(options) : startLocalKafka(options).then((kafka) => ({ kafka, env: {} })));
      cleanups.push(() => started.kafka.stop());
      kafkaBrokers = started.kafka.brokers;
      kafkaEnv = started.env;
    }
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      const database = await interruptible(startEmbeddedPostgres(stateDir, POSTGRES_PORT));
      cleanups.push(() => database.stop());
      console.log(`PostgreSQL is running on 127.0.0.1:${POSTGRES_PORT} (data and log in ${database.dir})`);
      databaseUrl = database.url;
    }
    const logDir = path.join(stateDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    console.log('starting the services');
    const d1 = await d1Inbound(stateDir);
    const stack = await interruptible(startStack({ kafkaBrokers, databaseUrl, stateDir, logDir, ports, env: { ...kafkaEnv, intake: { ...kafkaEnv.intake, DATABASE_POOL_SIZE: '5', ...d1.env } } }));
    cleanups.push(() => stack.stop());

    const demo = await Demo.of(stack);
    await interruptible(demo.firstPinChanges());
    await interruptible(demo.otherOperations());
    await interruptible(demo.d1Push(d1.simulator(stack.urls.intake)));

    console.log(`\npinflow is running (logs in ${logDir}):`);
    for (const app of APPS) console.log(`  ${app.padEnd(14)} ${stack.urls[app]}`);
    console.log(`API document: ${stack.urls.intake}/openapi.json — a token for curl: npm run token -- --scopes pin:write,pin:read`);
    if (!once) {
      console.log('Ctrl-C stops everything.');
      await stopRequested;
    }
    console.log('\nstopping');
    await shutdown();
  } catch (error) {
    console.error(`pinflow could not start: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown();
    process.exitCode = 1;
  }
  // Whatever a step cut short by a signal may still have pending must not keep the command alive.
  process.exit();
}

void main();
