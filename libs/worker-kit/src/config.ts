import { httpConfig, logConfig, positiveInt } from '@pinflow/config';
import type { Vendor } from '@pinflow/contracts';
import { databaseConfig } from '@pinflow/sql';
import { kafkaConfig, KafkaSettings, messageSigningConfig, MessageTrustSettings, messageVerifyingConfig } from '@pinflow/kafka';
import { z } from 'zod';
import type { ClientCredentials } from '@pinflow/vendor-http';
import { DEFAULT_BREAKER_POLICY } from './circuit-breaker';
import type { RetryPolicy } from './retry-policy';

/** More would hold as many vendor connections and decrypted secrets at once, for no more throughput than the database allows. */
const MAX_COMMANDS_IN_FLIGHT = 4096;

/** Settings every worker reads: its HTTP listener (health), logging, Kafka, the database, its command group. */
export function workerConfig(vendor: Vendor) {
  return {
    ...httpConfig,
    ...logConfig,
    ...kafkaConfig,
    ...messageSigningConfig,
    ...messageVerifyingConfig,
    ...databaseConfig,
    WORKER_COMMAND_GROUP: z.string().min(1).default(`pinflow-worker-${vendor}`),
    /**
     * Commands the worker works on at once, across its partitions, each card's still one after the
     * other: what keeps throughput up while the vendor takes its time (100-500 ms a call for real
     * vendors). It must cover the rate times each command's time in hand, the vendor's latency and
     * the command's own database and Kafka round trips; with 512, a worker measured as fast with a
     * vendor answering in 300 ms as with one answering at once. A card whose vendor call is being
     * retried holds back its own later commands only.
     */
    WORKER_COMMANDS_IN_FLIGHT: positiveInt.max(MAX_COMMANDS_IN_FLIGHT).default(512),
    /**
     * How long a command's outcome may stay recorded but unpublished (its publication cut short by a
     * crash or a broker outage) before the worker's sweep publishes it.
     */
    WORKER_REPUBLISH_AFTER_MS: positiveInt.default(30_000),
  };
}

export interface WorkerSettings extends KafkaSettings, MessageTrustSettings {
  LOG_LEVEL: string;
  DATABASE_URL: string;
  DATABASE_POOL_SIZE: number;
  WORKER_COMMAND_GROUP: string;
  WORKER_COMMANDS_IN_FLIGHT: number;
  WORKER_REPUBLISH_AFTER_MS: number;
}

type VendorCallKey<P extends string> =
  | `${P}_HTTP_TIMEOUT_MS`
  | `${P}_MAX_ATTEMPTS`
  | `${P}_RETRY_BASE_MS`
  | `${P}_BREAKER_THRESHOLD`
  | `${P}_BREAKER_COOLDOWN_MS`;

/**
 * How a worker calls its vendor, named after the vendor (`PISMO` gives PISMO_HTTP_TIMEOUT_MS, ...):
 * the timeout of one HTTP exchange; the calls per command, the first included, while the vendor
 * answers 5xx/429 or refuses the connection; the ceiling of the first backoff, doubled on every retry;
 * the consecutive failed calls that open the vendor's circuit, and how long it stays open.
 */
export function vendorCallConfig<P extends string>(prefix: P) {
  return {
    [`${prefix}_HTTP_TIMEOUT_MS`]: positiveInt.default(5000),
    [`${prefix}_MAX_ATTEMPTS`]: positiveInt.default(4),
    [`${prefix}_RETRY_BASE_MS`]: positiveInt.default(200),
    [`${prefix}_BREAKER_THRESHOLD`]: positiveInt.default(DEFAULT_BREAKER_POLICY.threshold),
    [`${prefix}_BREAKER_COOLDOWN_MS`]: positiveInt.default(DEFAULT_BREAKER_POLICY.cooldownMs),
  } as Record<VendorCallKey<P>, ReturnType<typeof positiveInt.default>>;
}

export function retryPolicyFrom<P extends string>(prefix: P, config: Record<VendorCallKey<P>, number>): RetryPolicy {
  return {
    maxAttempts: config[`${prefix}_MAX_ATTEMPTS`],
    baseDelayMs: config[`${prefix}_RETRY_BASE_MS`],
    breaker: { threshold: config[`${prefix}_BREAKER_THRESHOLD`], cooldownMs: config[`${prefix}_BREAKER_COOLDOWN_MS`] },
  };
}

type ClientCredentialsKey<P extends string> = `${P}_TOKEN_URL` | `${P}_CLIENT_ID` | `${P}_CLIENT_SECRET`;
type ClientCredentialsSettings<P extends string> = Record<ClientCredentialsKey<P>, string> & Partial<Record<`${P}_TOKEN_SCOPE`, string>>;

/** A vendor's OAuth2 client credentials, named after the vendor (`PISMO` gives PISMO_TOKEN_URL, ...). */
export function clientCredentialsConfig<P extends string>(prefix: P) {
  return {
    [`${prefix}_TOKEN_URL`]: z.url(),
    [`${prefix}_CLIENT_ID`]: z.string().min(1),
    [`${prefix}_CLIENT_SECRET`]: z.string().min(1),
    [`${prefix}_TOKEN_SCOPE`]: z.string().min(1).optional(),
  } as Record<`${P}_TOKEN_URL`, z.ZodURL> &
    Record<`${P}_CLIENT_ID` | `${P}_CLIENT_SECRET`, z.ZodString> &
    Record<`${P}_TOKEN_SCOPE`, z.ZodOptional<z.ZodString>>;
}

/** The credentials clientCredentialsConfig read; how the client authenticates is the vendor's fact, not configuration. */
export function clientCredentialsFrom<P extends string>(
  prefix: P,
  config: ClientCredentialsSettings<P>,
  authStyle: ClientCredentials['authStyle'],
): ClientCredentials {
  // Read through the two halves of the type: TypeScript cannot index the intersection with a generic key.
  const required: Record<ClientCredentialsKey<P>, string> = config;
  const optional: Partial<Record<`${P}_TOKEN_SCOPE`, string>> = config;
  const scope: string | undefined = optional[`${prefix}_TOKEN_SCOPE`];
  return {
    tokenUrl: required[`${prefix}_TOKEN_URL`],
    clientId: required[`${prefix}_CLIENT_ID`],
    clientSecret: required[`${prefix}_CLIENT_SECRET`],
    authStyle,
    ...(scope === undefined ? {} : { scope }),
  };
}
