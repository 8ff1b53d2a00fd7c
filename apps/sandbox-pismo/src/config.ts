import { httpConfig, logConfig, positiveInt } from '@pinflow/config';
import { kafkaConfig } from '@pinflow/kafka';
import { sandboxConfig } from '@pinflow/sandbox-kit';
import { z } from 'zod';

export const sandboxConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...sandboxConfig,
  ...kafkaConfig,
  /** Where Pismo's event connector would deliver the card events. */
  PISMO_EVENTS_TOPIC: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name (letters, digits, ".", "_", "-")')
    .default('pismo.events'),
  PISMO_EVENTS_PARTITIONS: positiveInt.default(6),
  SANDBOX_ORG_ID: z.string().regex(/^TN-.+/, 'must look like a Pismo tenant id, e.g. TN-sandbox').default('TN-sandbox'),
  /** A zone PIN key (`{keyId, key}`, the key in hex) the PIN block endpoint takes besides Pismo's published sandbox key. */
  PISMO_ZPK_FILE: z.string().min(1).optional(),
  /** Applies to cards whose program has no maximum of its own (set one with PUT /sandbox/programs/{id}). */
  PISMO_DEFAULT_MAX_PASSWORD_TRIES: positiveInt.default(3),
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
