import { commaList, positiveInt } from '@pinflow/config';
import { accessSync, constants } from 'node:fs';
import { z } from 'zod';

function isReadable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Kafka settings every service composes into its own config schema. */
export const kafkaConfig = {
  KAFKA_BROKERS: commaList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  /** Partitions for command topics: the upper bound of a worker's parallelism. */
  KAFKA_COMMAND_PARTITIONS: positiveInt.default(6),
  KAFKA_EVENT_PARTITIONS: positiveInt.default(6),
  KAFKA_REPLICATION_FACTOR: positiveInt.default(1),
  /** How many partitions a consumer works on at once. */
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: positiveInt.default(6),
  /** As Kafka names them. PLAINTEXT keeps local runs and tests fast; a shared broker wants SASL_SSL. */
  KAFKA_SECURITY_PROTOCOL: z.enum(['PLAINTEXT', 'SSL', 'SASL_SSL']).default('PLAINTEXT'),
  /** PEM file of the CA(s) the brokers' certificates must chain to; without it, the system's CAs. */
  KAFKA_SSL_CA_FILE: z.string().min(1).refine(isReadable, 'must name a readable PEM file').optional(),
  KAFKA_SASL_MECHANISM: z.enum(['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']).optional(),
  /** The service's own principal, which the broker's ACLs are written for. */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** `production` (as the image sets it) refuses KAFKA_SECURITY_PROTOCOL=PLAINTEXT. */
  NODE_ENV: z.string().optional(),
};

export interface KafkaSettings {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID?: string;
  KAFKA_COMMAND_PARTITIONS: number;
  KAFKA_EVENT_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: number;
  KAFKA_SECURITY_PROTOCOL?: 'PLAINTEXT' | 'SSL' | 'SASL_SSL';
  KAFKA_SSL_CA_FILE?: string;
  KAFKA_SASL_MECHANISM?: 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN';
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  NODE_ENV?: string;
}
