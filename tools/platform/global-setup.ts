import { writeFileSync } from 'node:fs';
import { defaultMigrationsDir, migrateDeploy } from '@pinflow/db';
import { provisionTestInfrastructure } from './infrastructure';
import { TEST_ENV_FILE, TEST_KAFKA_SECURITY_VARIABLE } from '@pinflow/testing';

/**
 * Integration and end-to-end tests get a real broker and a real, freshly migrated PostgreSQL
 * database (the services they start come from dist/, built by jest-global.js before this runs).
 */
export default async function globalSetup(): Promise<void> {
  const infrastructure = await provisionTestInfrastructure();
  (globalThis as { __pinflowInfrastructure?: unknown }).__pinflowInfrastructure = infrastructure;
  await migrateDeploy(infrastructure.databaseUrl, defaultMigrationsDir());
  process.env.KAFKA_BROKERS = infrastructure.kafkaBrokers;
  process.env.DATABASE_URL = infrastructure.databaseUrl;
  if (infrastructure.kafkaSecurity) process.env[TEST_KAFKA_SECURITY_VARIABLE] = JSON.stringify(infrastructure.kafkaSecurity);
  writeFileSync(TEST_ENV_FILE, JSON.stringify({ kafkaBrokers: infrastructure.kafkaBrokers, databaseUrl: infrastructure.databaseUrl, kafkaSecurity: infrastructure.kafkaSecurity }));
}
