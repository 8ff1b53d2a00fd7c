import { encryptPin } from '@pinflow/pin-crypto';
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { checkPin, PISMO_PIN_RULES } from '@pinflow/pin-policy';
import { startEmbeddedPostgres } from '@pinflow/db';
import { startLocalKafka } from './kafka';
import { repoRoot, waitFor } from '@pinflow/testing';
import { APPS, Stack, startStack } from './stack';

/**
 * `npm start`: the platform on embedded defaults (a local Kafka broker from Maven Central's jars and
 * PGlite unless KAFKA_BROKERS / DATABASE_URL say otherwise), then one PIN change through it.
 * `npm start -- --once` stops after that change.
 */
const stateDir = path.join(repoRoot, '.pinflow');
const ports = {
  intake: Number(process.env.PINFLOW_INTAKE_PORT ?? 8080),
  audit: Number(process.env.PINFLOW_AUDIT_PORT ?? 8081),
  'worker-pismo': Number(process.env.PINFLOW_WORKER_PISMO_PORT ?? 8082),
  'sandbox-pismo': Number(process.env.PINFLOW_SANDBOX_PISMO_PORT ?? 8090),
};

async function json(response: Response): Promise<any> {
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** A PIN Pismo and pinflow's policy accept; made up here and never printed. */
function demoPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (checkPin(pin, PISMO_PIN_RULES).ok) return pin;
  }
}

async function firstPinChange(stack: Stack): Promise<void> {
  const cardId = 'demo-card-0001';
  await json(await fetch(`${stack.urls['sandbox-pismo']}/sandbox/cards/${cardId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'NORMAL' }) }));
  const token = await stack.secrets.token(['pin:write', 'pin:read'], { subject: 'pinflow-demo' });
  const { keys } = await json(await fetch(`${stack.urls.intake}/v1/pin-keys`));
  const encryptedPin = await encryptPin(demoPin(), keys[0]);

  const accepted = await json(
    await fetch(`${stack.urls.intake}/v1/pismo/cards/${cardId}/pin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ encryptedPin, syncOfflinePin: true }),
    }),
  );
  console.log(`\nPIN change for ${cardId} accepted: request ${accepted.requestId}`);
  const outcome = await waitFor('the PIN change to finish', async () => {
    const status = await json(await fetch(accepted.statusUrl, { headers: { authorization: `Bearer ${token}` } }));
    return status.status === 'accepted' ? undefined : status;
  }, 60_000, 250);
  console.log(`status: ${outcome.status}`);
  for (const event of outcome.events) console.log(`  ${event.time}  ${event.type}`);
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

    await firstPinChange(stack);

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
