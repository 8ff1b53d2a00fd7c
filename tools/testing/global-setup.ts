import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultMigrationsDir, migrateDeploy } from '../../libs/db/src/migrate';
import { provisionTestInfrastructure } from '../platform/infrastructure';
import { repoRoot } from '../platform/paths';
import { TEST_ENV_FILE } from './test-env';

/**
 * Integration and end-to-end tests get a real broker and a real, freshly migrated PostgreSQL
 * database; end-to-end tests also need the services compiled, so the build runs first.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [path.join(repoRoot, 'tools/build.mjs')], { stdio: 'inherit' });
  const infrastructure = await provisionTestInfrastructure();
  (globalThis as { __pinflowInfrastructure?: unknown }).__pinflowInfrastructure = infrastructure;
  await migrateDeploy(infrastructure.databaseUrl, defaultMigrationsDir());
  process.env.KAFKA_BROKERS = infrastructure.kafkaBrokers;
  process.env.DATABASE_URL = infrastructure.databaseUrl;
  writeFileSync(TEST_ENV_FILE, JSON.stringify({ kafkaBrokers: infrastructure.kafkaBrokers, databaseUrl: infrastructure.databaseUrl }));
}
