import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, ServiceProcess } from '@pinflow/testing';
import { z } from 'zod';
import { provisionTestInfrastructure } from './infrastructure';
import { AppName, APPS, startStack } from './stack';

/** The sandbox an app calls over HTTP, started with it so that it has a vendor to talk to. */
function sandboxCalledBy(app: AppName): AppName[] {
  if (app === 'intake') return ['sandbox-solaris'];
  if (app.startsWith('worker-')) return [app.replace('worker-', 'sandbox-') as AppName];
  return [];
}

/**
 * Until Ctrl-C or SIGTERM, or until the app exits: Nx stops a served task by signalling the app before
 * this process, which must then still stop the rest. Later signals are absorbed so that cleanup finishes.
 */
function untilStopped(service: ServiceProcess): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      clearInterval(watch);
      resolve();
    };
    const watch = setInterval(() => {
      if (!service.isRunning()) stop();
    }, 500);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `nx serve <app>`: one app, and the vendor sandbox it calls, wired as `npm start` wires them, on the
 * infrastructure the tests use (KAFKA_BROKERS or a fresh local broker; a scratch database on
 * PINFLOW_POSTGRES_URL's server, dropped on exit). The app listens on PORT if set, else on a free port.
 * Keys come from `.pinflow/`, so `npm run token` mints tokens it accepts.
 */
async function main(): Promise<void> {
  const app = z.enum(APPS, { error: `usage: serve <${APPS.join('|')}>` }).parse(process.argv[2]);
  const port = z.coerce.number().int().min(1).max(65535).optional().parse(process.env.PORT);
  const apps = [...sandboxCalledBy(app), app];
  const stateDir = path.join(repoRoot, '.pinflow');
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const infrastructure = await provisionTestInfrastructure();
  try {
    const stack = await startStack({
      kafkaBrokers: infrastructure.kafkaBrokers,
      databaseUrl: infrastructure.databaseUrl,
      stateDir,
      logDir,
      ports: port ? { [app]: port } : undefined,
      apps,
    });
    for (const started of apps) console.log(`${started} ${stack.urls[started]} (log: ${stack.services[started].logFile})`);
    console.log('Ctrl-C stops it.');
    await untilStopped(stack.services[app]);
    console.log('stopping');
    await stack.stop();
  } finally {
    await infrastructure.teardown();
  }
}

main().catch((error) => {
  console.error(`serve: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
