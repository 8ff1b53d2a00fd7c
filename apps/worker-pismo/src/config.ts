import { httpConfig, logConfig, positiveInt } from '@pinflow/config';
import { databaseConfig } from '@pinflow/db';
import { kafkaConfig } from '@pinflow/kafka';
import { pinKeysConfig } from '@pinflow/pin-crypto';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...kafkaConfig,
  ...databaseConfig,
  ...pinKeysConfig,
  /** Pismo's PCI gateway (change password) and its normal API host (password tries) are separate. */
  PISMO_PCI_BASE_URL: z.url(),
  PISMO_API_BASE_URL: z.url(),
  PISMO_TOKEN_URL: z.url(),
  PISMO_CLIENT_ID: z.string().min(1),
  PISMO_CLIENT_SECRET: z.string().min(1),
  /** Where Pismo's own events (update_password-1, issuer_script-1, update-1) arrive. */
  PISMO_EVENTS_TOPIC: z.string().min(1).default('pismo.events'),
  PISMO_HTTP_TIMEOUT_MS: positiveInt.default(5000),
  /** Calls per command, the first included, while Pismo answers 5xx/429 or not at all. */
  PISMO_MAX_ATTEMPTS: positiveInt.default(4),
  PISMO_RETRY_BASE_MS: positiveInt.default(200),
  WORKER_COMMAND_GROUP: z.string().min(1).default('pinflow-worker-pismo'),
  WORKER_VENDOR_EVENT_GROUP: z.string().min(1).default('pinflow-worker-pismo-vendor-events'),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
