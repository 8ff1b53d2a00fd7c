import type { KafkaConfig } from 'kafkajs';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

const stateDir = path.join(repoRoot, '.pinflow');
mkdirSync(stateDir, { recursive: true });
export const TEST_ENV_FILE = path.join(stateDir, `test-env.json`);

/** How to reach a broker that speaks SASL_SSL only (PINFLOW_KAFKA_SECURED=1). */
export interface TestKafkaSecurity {
  /** Each app's KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_* and KAFKA_SASL_* settings, by app name. */
  apps: Partial<Record<string, Record<string, string>>>;
  /** kafkajs options of the broker's super user, for what tests read and write themselves. */
  client: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  /** kafkajs options of each Kafka-door requester the broker knows, by requester id: what an upstream system signs in with. */
  requesters: Partial<Record<string, Pick<KafkaConfig, 'ssl' | 'sasl'>>>;
}

export interface TestEnv {
  kafkaBrokers: string;
  databaseUrl: string;
  kafkaSecurity?: TestKafkaSecurity;
}

/** Where globalSetup leaves the security settings of a secured broker for the test workers. */
export const TEST_KAFKA_SECURITY_VARIABLE = 'PINFLOW_TEST_KAFKA_SECURITY';

/** The broker and database that globalSetup provisioned for this test run. */
export function testEnv(): TestEnv {
  if (process.env.KAFKA_BROKERS && process.env.DATABASE_URL) {
    const security = process.env[TEST_KAFKA_SECURITY_VARIABLE];
    return { kafkaBrokers: process.env.KAFKA_BROKERS, databaseUrl: process.env.DATABASE_URL, ...(security ? { kafkaSecurity: JSON.parse(security) as TestKafkaSecurity } : {}) };
  }
  return JSON.parse(readFileSync(TEST_ENV_FILE, 'utf8')) as TestEnv;
}
