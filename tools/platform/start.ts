import { OPERATOR_SCOPE } from '@pinflow/auth';
import { PISMO_PIN_RULES } from '@pinflow/contracts';
import { issuerEncryptionKeyPair, repoRoot, ThalesD1Simulator, waitFor } from '@pinflow/testing';
import type { JWK } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { LocalKafka, startLocalKafka } from './kafka';
import { KAFKA_ADMIN_PRINCIPAL, startSecuredLocalKafka } from './kafka-secured';
import { localPorts } from './local-ports';
import { acceptablePin, PinChangeScenarios } from './pin-change-scenarios';
import { startEmbeddedPostgres } from './postgres-embedded';
import { APPS, Stack, StackOptions, startStack, VENDOR_NAMES } from './stack';

/**
 * `npm start`: the platform on embedded defaults (a local Kafka broker from Maven Central's jars and a
 * PostgreSQL server from npm's binaries, unless KAFKA_BROKERS / DATABASE_URL say otherwise), then one
 * PIN change per vendor through it, and one Thales D1 pushes into it. `npm start -- --once` stops after those changes. With
 * PINFLOW_KAFKA_SECURED=1 the local broker speaks SASL_SSL only, each service as its own principal.
 */
const stateDir = path.join(repoRoot, '.pinflow');
const { kafka: KAFKA_PORT, kafkaController: KAFKA_CONTROLLER_PORT, postgres: POSTGRES_PORT, apps: ports } = localPorts();

async function json(response: Response): Promise<any> {
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** One PIN change per vendor through the front door, each followed to its outcome. */
async function firstPinChanges(stack: Stack): Promise<void> {
  const token = await stack.secrets.token(['pin:write', 'pin:read'], { subject: 'pinflow-demo' });
  const scenarios = new PinChangeScenarios(stack, token);
  for (const vendor of VENDOR_NAMES) {
    const cardId = scenarios.cardId(vendor, 1);
    await scenarios.seed(vendor, cardId);
    const request = await scenarios.request(vendor, cardId);
    const accepted = await json(
      await fetch(`${stack.urls.intake}${request.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(request.body),
      }),
    );
    const outcome = await waitFor(`the ${vendor} PIN change to finish`, async () => {
      const status = await json(await fetch(accepted.statusUrl, { headers: { authorization: `Bearer ${token}` } }));
      return status.status === 'accepted' ? undefined : status;
    }, 60_000, 250);
    console.log(`\n${vendor}: POST ${request.path} → 202, request ${accepted.requestId}: ${outcome.status}`);
    for (const event of outcome.events) console.log(`  ${event.time}  ${event.type}`);
  }
}

/** The issuer Thales D1 calls the local platform as the CMS of, whose cards Pismo holds (as in docker-compose.yml). */
const D1_ISSUER = 'ISSUER0002';

/**
 * Thales D1 calling the local platform: pinflow's P-256 key D1 encrypts PIN blocks to (kept in the state
 * directory, where docker-compose.yml mounts it from), D1's credentials for this run, and intake's
 * settings for them.
 */
async function d1Inbound(): Promise<{ env: Record<string, string>; simulator: (intakeUrl: string) => ThalesD1Simulator }> {
  const keyFile = path.join(stateDir, 'd1-inbound-encryption-key.json');
  if (!existsSync(keyFile)) writeFileSync(keyFile, JSON.stringify((await issuerEncryptionKeyPair()).privateJwk), { mode: 0o600 });
  const { d: _private, ...publicJwk } = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  const credentials = { clientId: 'thales-d1', clientSecret: randomBytes(32).toString('base64url') };
  return {
    env: { D1_INBOUND_ISSUERS: JSON.stringify({ [D1_ISSUER]: { vendor: 'pismo' } }), D1_INBOUND_CLIENT_ID: credentials.clientId, D1_INBOUND_CLIENT_SECRET: credentials.clientSecret, D1_INBOUND_ENCRYPTION_KEY_FILE: keyFile },
    simulator: (intakeUrl) => new ThalesD1Simulator(intakeUrl, credentials, publicJwk),
  };
}

/** Thales D1 pushing a card's PIN into pinflow (a simulator playing D1), followed to its outcome at Pismo. */
async function d1Push(stack: Stack, d1: ThalesD1Simulator): Promise<void> {
  const operator = await stack.secrets.token(['pin:read', OPERATOR_SCOPE], { subject: 'pinflow-demo-operator' });
  const scenarios = new PinChangeScenarios(stack, operator);
  const cardId = scenarios.cardId('pismo', 2);
  await scenarios.seed('pismo', cardId);
  await d1.signIn();
  const answer = await d1.changePinSeccos(D1_ISSUER, cardId, acceptablePin(PISMO_PIN_RULES, 6), { correlationId: randomUUID() });
  const statusUrl = answer.headers.get('location');
  if (answer.status !== 204 || !statusUrl) throw new Error(`the D1 push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const outcome = await waitFor('the D1 push to finish', async () => {
    const status = await json(await fetch(statusUrl, { headers: { authorization: `Bearer ${operator}` } }));
    return status.status === 'accepted' ? undefined : status;
  }, 60_000, 250);
  console.log(`
thales-d1 → pinflow: PUT /cms/api/v1/issuers/${D1_ISSUER}/cards/${cardId}/pin (3DES_SECCOS) → 204, request ${outcome.requestId} at pismo: ${outcome.status}`);
  for (const event of outcome.events) console.log(`  ${event.time}  ${event.type}`);
}

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
    const d1 = await d1Inbound();
    const stack = await interruptible(startStack({ kafkaBrokers, databaseUrl, stateDir, logDir, ports, env: { ...kafkaEnv, intake: { ...kafkaEnv.intake, DATABASE_POOL_SIZE: '5', ...d1.env } } }));
    cleanups.push(() => stack.stop());

    await interruptible(firstPinChanges(stack));
    await interruptible(d1Push(stack, d1.simulator(stack.urls.intake)));

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
