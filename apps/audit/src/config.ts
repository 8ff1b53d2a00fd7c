import { AUTH_KEY_SOURCE_RULE, authConfig } from '@pinflow/auth';
import { httpConfig, logConfig } from '@pinflow/config';
import { databaseConfig } from '@pinflow/sql';
import { kafkaConfig, messageVerifyingConfig } from '@pinflow/kafka';
import { z } from 'zod';

export const auditConfigSchema = z
  .object({
    ...httpConfig,
    ...logConfig,
    ...kafkaConfig,
    ...messageVerifyingConfig,
    ...databaseConfig,
    ...authConfig,
    /** A new group name re-reads pinflow.events.v1 from its start; events already stored are skipped. */
    AUDIT_CONSUMER_GROUP: z.string().min(1).default('pinflow-audit'),
    /**
     * The role every session of the service takes on connecting (`-c role=…`): one that may only
     * INSERT and SELECT audit_events, so the service cannot rewrite the trail or switch its triggers off.
     */
    AUDIT_DATABASE_ROLE: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a PostgreSQL role name (lower case letters, digits, _)')
      .default('pinflow_audit_writer'),
  })
  // Checked here too, so a wrong key source is a configuration error (exit 78), not a failed start.
  .refine((config) => (config.AUTH_JWKS_URL === undefined) !== (config.AUTH_PUBLIC_KEY_FILE === undefined), {
    message: AUTH_KEY_SOURCE_RULE,
    path: ['AUTH_JWKS_URL'],
  });

export type AuditConfig = z.output<typeof auditConfigSchema>;
export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');
