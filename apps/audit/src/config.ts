import { AUTH_KEY_SOURCE_RULE, authConfig } from '@pinflow/auth';
import { httpConfig, logConfig } from '@pinflow/config';
import { databaseConfig } from '@pinflow/db';
import { kafkaConfig } from '@pinflow/kafka';
import { z } from 'zod';

export const auditConfigSchema = z
  .object({
    ...httpConfig,
    ...logConfig,
    ...kafkaConfig,
    ...databaseConfig,
    ...authConfig,
    /** A new group name re-reads pinflow.events.v1 from its start; events already stored are skipped. */
    AUDIT_CONSUMER_GROUP: z.string().min(1).default('pinflow-audit'),
  })
  // Checked here too, so a wrong key source is a configuration error (exit 78), not a failed start.
  .refine((config) => (config.AUTH_JWKS_URL === undefined) !== (config.AUTH_PUBLIC_KEY_FILE === undefined), {
    message: AUTH_KEY_SOURCE_RULE,
    path: ['AUTH_JWKS_URL'],
  });

export type AuditConfig = z.output<typeof auditConfigSchema>;
export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');
