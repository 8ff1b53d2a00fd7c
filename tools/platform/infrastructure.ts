import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, freePort, TestKafkaSecurity } from '@pinflow/testing';
import { LocalKafka, startLocalKafka } from './kafka';
import { KAFKA_ADMIN_PRINCIPAL, startSecuredLocalKafka } from './kafka-secured';

export interface Infrastructure {
  kafkaBrokers: string;
  databaseUrl: string;
  /** Set when the broker was started with PINFLOW_KAFKA_SECURED=1. */
  kafkaSecurity?: TestKafkaSecurity;
  teardown(): Promise<void>;
}

/** The machine's PostgreSQL server, unless told otherwise. */
export const DEFAULT_POSTGRES_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * Real infrastructure for tests and benchmarks: the broker named by KAFKA_BROKERS or a fresh local
 * one on free ports (SASL_SSL only, with a principal per app, with PINFLOW_KAFKA_SECURED=1); a
 * scratch database on PINFLOW_POSTGRES_URL's server (default: the local one).
 */
export async function provisionTestInfrastructure(): Promise<Infrastructure> {
  const cleanups: (() => Promise<void>)[] = [];
  let kafkaBrokers = process.env.KAFKA_BROKERS;
  let kafkaSecurity: TestKafkaSecurity | undefined;
  if (!kafkaBrokers) {
    const options = { port: await freePort(), controllerPort: await freePort(), stateDir: mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-')) };
    let kafka: LocalKafka;
    if (process.env.PINFLOW_KAFKA_SECURED === '1') {
      const secured = await startSecuredLocalKafka(options);
      const { ssl, sasl } = secured.clientConfig(KAFKA_ADMIN_PRINCIPAL);
      kafkaSecurity = { apps: secured.appEnv(), client: { ssl, sasl } };
      kafka = secured;
    } else {
      kafka = await startLocalKafka(options);
    }
    kafkaBrokers = kafka.brokers;
    cleanups.push(() => kafka.stop());
  }
  const database = await createScratchDatabase(process.env.PINFLOW_POSTGRES_URL ?? DEFAULT_POSTGRES_SERVER_URL);
  cleanups.push(() => database.drop());
  return {
    kafkaBrokers,
    kafkaSecurity,
    databaseUrl: database.url,
    teardown: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('teardown:', error));
    },
  };
}
