import { httpConfig, logConfig, positiveInt } from '@pinflow/config';
import { sandboxConfig } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { RSA_PADDINGS } from './rsa-keys';

export const sandboxConfigSchema = z.object({
  ...httpConfig,
  ...logConfig,
  ...sandboxConfig,
  VAULT_RSA_MODULUS_BITS: z.coerce
    .number()
    .pipe(z.union([z.literal(2048), z.literal(3072), z.literal(4096)], { error: 'must be 2048, 3072 or 4096' }))
    .default(2048),
  /** How the sandbox decrypts `passCode` until the `rsaPadding` knob says otherwise. */
  VAULT_RSA_PADDING: z.enum(RSA_PADDINGS).default('oaep-sha256'),
  /** Lifetime of one-time codes until the `codeTtlSeconds` knob says otherwise. */
  VAULT_CODE_TTL_SECONDS: positiveInt.default(300),
});

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;
