import { positiveInt } from '@pinflow/config';
import { z } from 'zod';

/** The settings every sandbox takes from its environment, composed into its own config schema. */
export const sandboxConfig = {
  /** With the secret, the only client credentials the token endpoint accepts. */
  SANDBOX_CLIENT_ID: z.string().min(1).default('pinflow'),
  SANDBOX_CLIENT_SECRET: z.string().min(1).default('sandbox-secret'),
  /** Lifetime of issued tokens until the `tokenTtlSeconds` knob changes it. */
  SANDBOX_TOKEN_TTL_SECONDS: positiveInt.default(300),
};

/** The settings of `sandboxConfig`, parsed; the kit reads them itself (`SandboxKitOptions.settings`). */
export interface SandboxSettings {
  SANDBOX_CLIENT_ID: string;
  SANDBOX_CLIENT_SECRET: string;
  SANDBOX_TOKEN_TTL_SECONDS: number;
  /** From the shared log settings, which every sandbox's config also composes. */
  LOG_LEVEL: string;
}
