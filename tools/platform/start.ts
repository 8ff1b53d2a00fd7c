import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '@pinflow/db';
import { startLocalKafka } from './kafka';
import { repoRoot, waitFor } from '@pinflow/testing';
import { PinChangeScenarios } from './pin-change-scenarios';
import { AppName, APPS, Stack, startStack, VENDOR_NAMES } from './stack';

/**
 * `npm start`: the platform on embedded defaults (a local Kafka broker from Maven Central's jars and
 * PGlite unless KAFKA_BROKERS / DATABASE_URL say otherwise), then one PIN change through it.
 * `npm start -- --once` stops after that change.
 */
const stateDir = path.join(repoRoot, '.pinflow');
// intake 8080 and audit 8081 for callers; workers 8082-8085 (health); sandboxes 8090-8093.
const BASE_PORT = Number(process.env.PINFLOW_BASE_PORT ?? 8080);
const ports = Object.fromEntries([
  ['intake', BASE_PORT],
  ['audit', BASE_PORT + 1],
  ...VENDOR_NAMES.map((vendor, index) => [`worker-${vendor}`, BASE_PORT + 2 + index]),
  ...VENDOR_NAMES.map((vendor, index) => [`sandbox-${vendor}`, BASE_PORT + 10 + index]),
]) as Record<AppName, number>;

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

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  const cleanups: (() => Promise<void>)[] = [];
  const shutdown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(error));
  };

  try {
    let kafkaBrokers = process.env.KAFKA_BROKERS;
    if (!kafkaBrokers) {
      console.log('starting a local Kafka broker on 127.0.0.1:9092 (first run fetches its jars through Maven)');
      const kafka = await startLocalKafka({ port: 9092, controllerPort: 9093, stateDir: path.join(stateDir, 'kafka') });
      cleanups.push(() => kafka.stop());
      kafkaBrokers = kafka.brokers;
    }
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      console.log('starting embedded PostgreSQL (PGlite) on 127.0.0.1:54329');
      const database = await startEmbeddedPostgres(path.join(stateDir, 'pglite'), 54329);
      cleanups.push(() => database.stop());
      databaseUrl = database.url;
    }
    const logDir = path.join(stateDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    console.log('starting the services');
    const stack = await startStack({ kafkaBrokers, databaseUrl, stateDir, logDir, ports, env: { intake: { DATABASE_POOL_SIZE: '5' } } });
    cleanups.push(() => stack.stop());

    await firstPinChanges(stack);

    console.log(`\npinflow is running (logs in ${logDir}):`);
    for (const app of APPS) console.log(`  ${app.padEnd(14)} ${stack.urls[app]}`);
    console.log(`API document: ${stack.urls.intake}/openapi.json — a token for curl: npm run token -- --scopes pin:write,pin:read`);
    if (once) return await shutdown();
    console.log('Ctrl-C stops everything.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log('\nstopping');
    await shutdown();
  } catch (error) {
    console.error(`pinflow could not start: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown();
    process.exitCode = 1;
  }
}

void main();
