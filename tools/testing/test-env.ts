import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

const stateDir = path.join(repoRoot, '.pinflow');
mkdirSync(stateDir, { recursive: true });
export const TEST_ENV_FILE = path.join(stateDir, `test-env.json`);

export interface TestEnv {
  kafkaBrokers: string;
  databaseUrl: string;
}

/** The broker and database that globalSetup provisioned for this test run. */
export function testEnv(): TestEnv {
  if (process.env.KAFKA_BROKERS && process.env.DATABASE_URL) {
    return { kafkaBrokers: process.env.KAFKA_BROKERS, databaseUrl: process.env.DATABASE_URL };
  }
  return JSON.parse(readFileSync(TEST_ENV_FILE, 'utf8')) as TestEnv;
}
