import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, freePort, TestKafkaSecurity } from '@pinflow/testing';
import { LocalKafka, startLocalKafka } from './kafka';
import { KAFKA_ADMIN_PRINCIPAL, KAFKA_REQUESTERS, SecuredLocalKafka, startSecuredLocalKafka } from './kafka-secured';

export interface Infrastructure {
  kafkaBrokers: string;
  databaseUrl: string;
  /** Set when the broker was started secured (PINFLOW_KAFKA_SECURED=1, or asked to). */
  kafkaSecurity?: TestKafkaSecurity;
  teardown(): Promise<void>;
}

/** The machine's PostgreSQL server, unless told otherwise. */
export const DEFAULT_POSTGRES_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** How tests and tools reach a secured broker: each app's settings, the super user's and each requester's client options. */
export function testKafkaSecurityOf(kafka: SecuredLocalKafka): TestKafkaSecurity {
  const clientOf = (principal: Parameters<SecuredLocalKafka['clientConfig']>[0]) => {
    const { ssl, sasl } = kafka.clientConfig(principal);
    return { ssl, sasl };
  };
  return {
    apps: kafka.appEnv(),
    client: clientOf(KAFKA_ADMIN_PRINCIPAL),
    requesters: Object.fromEntries(Object.keys(KAFKA_REQUESTERS).map((name) => [name, clientOf(name as keyof typeof KAFKA_REQUESTERS)])),
  };
}

/** A fresh local broker on free ports, secured (SASL_SSL only, a principal per app and requester) or plaintext. */
export async function startTestKafka(secured: boolean): Promise<{ kafka: LocalKafka; kafkaSecurity?: TestKafkaSecurity }> {
  const options = { port: await freePort(), controllerPort: await freePort(), stateDir: mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-')) };
  if (!secured) return { kafka: await startLocalKafka(options) };
  const kafka = await startSecuredLocalKafka(options);
  return { kafka, kafkaSecurity: testKafkaSecurityOf(kafka) };
}

/**
 * Real infrastructure for tests and benchmarks: the broker named by KAFKA_BROKERS or a fresh local
 * one on free ports (SASL_SSL only, with a principal per app, with PINFLOW_KAFKA_SECURED=1 or
 * `secured`); a scratch database on PINFLOW_POSTGRES_URL's server (default: the local one).
 */
export async function provisionTestInfrastructure(options: { secured?: boolean } = {}): Promise<Infrastructure> {
  const cleanups: (() => Promise<void>)[] = [];
  let kafkaBrokers = process.env.KAFKA_BROKERS;
  let kafkaSecurity: TestKafkaSecurity | undefined;
  if (!kafkaBrokers) {
    let kafka: LocalKafka;
    ({ kafka, kafkaSecurity } = await startTestKafka(options.secured ?? process.env.PINFLOW_KAFKA_SECURED === '1'));
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
