import { commaList, positiveInt } from '@pinflow/config';
import { z } from 'zod';

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
};

export interface KafkaSettings {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID?: string;
  KAFKA_COMMAND_PARTITIONS: number;
  KAFKA_EVENT_PARTITIONS: number;
  KAFKA_REPLICATION_FACTOR: number;
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: number;
}
