import { booleanFlag, httpConfig, logConfig, positiveInt } from '@pinflow/config';
import { databaseConfig } from '@pinflow/db';
import { kafkaConfig } from '@pinflow/kafka';
import { authConfig } from '@pinflow/auth';
import { pinKeysConfig } from '@pinflow/pin-crypto';
import { z } from 'zod';

export const intakeConfigSchema = z
  .object({
    ...httpConfig,
    PORT: httpConfig.PORT.default(8080),
    ...logConfig,
    ...kafkaConfig,
    ...databaseConfig,
    ...authConfig,
    ...pinKeysConfig,
    /** Accept `pin` in clear (over TLS) besides `encryptedPin`. Off unless a deployment opts in. */
    INTAKE_ALLOW_PLAINTEXT_PIN: booleanFlag.default(false),
    /** Where callers reach intake; status URLs are built from it. */
    INTAKE_PUBLIC_BASE_URL: z.url().optional(),
    INTAKE_STATUS_GROUP: z.string().min(1).default('pinflow-intake-status'),
    /** Solaris, for serving its PIN key to apps (GET /v1/solaris/pin-key); optional. */
    SOLARIS_BASE_URL: z.url().optional(),
    SOLARIS_TOKEN_URL: z.url().optional(),
    SOLARIS_CLIENT_ID: z.string().min(1).optional(),
    SOLARIS_CLIENT_SECRET: z.string().min(1).optional(),
    INTAKE_SOLARIS_KEY_TTL_SECONDS: positiveInt.default(300),
    /** How often the outbox relay looks for work it was not woken for (another replica's, a retry). */
    INTAKE_OUTBOX_POLL_MS: positiveInt.default(200),
    /** Requests being accepted at once beyond which more are refused (503, Retry-After) instead of queued. */
    INTAKE_MAX_PENDING_ACCEPTANCES: positiveInt.default(128),
  })
  .transform((config) => ({
    ...config,
    INTAKE_PUBLIC_BASE_URL: (config.INTAKE_PUBLIC_BASE_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/$/, ''),
  }));

export type IntakeConfig = z.output<typeof intakeConfigSchema>;
export const INTAKE_CONFIG = Symbol('INTAKE_CONFIG');
