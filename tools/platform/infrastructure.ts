import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, freePort } from '@pinflow/testing';
import { startLocalKafka } from './kafka';

export interface Infrastructure {
  kafkaBrokers: string;
  databaseUrl: string;
  teardown(): Promise<void>;
}

/** The machine's PostgreSQL server, unless told otherwise. */
export const DEFAULT_POSTGRES_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * Real infrastructure for tests and benchmarks: the broker named by KAFKA_BROKERS or a fresh local
 * one on free ports; a scratch database on PINFLOW_POSTGRES_URL's server (default: the local one).
 */
export async function provisionTestInfrastructure(): Promise<Infrastructure> {
  const cleanups: (() => Promise<void>)[] = [];
  let kafkaBrokers = process.env.KAFKA_BROKERS;
  if (!kafkaBrokers) {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-'));
    const kafka = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), stateDir });
    kafkaBrokers = kafka.brokers;
    cleanups.push(() => kafka.stop());
  }
  const database = await createScratchDatabase(process.env.PINFLOW_POSTGRES_URL ?? DEFAULT_POSTGRES_SERVER_URL);
  cleanups.push(() => database.drop());
  return {
    kafkaBrokers,
    databaseUrl: database.url,
    teardown: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('teardown:', error));
    },
  };
}
