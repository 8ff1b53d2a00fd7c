import { commandKeysConfig } from '@pinflow/pin-crypto';
import { clientCredentialsConfig, vendorCallConfig, workerConfig } from '@pinflow/worker-kit';
import { z } from 'zod';
import { RSA_PADDINGS } from './vault/passcode-encryption';

export const workerConfigSchema = z.object({
  ...workerConfig('vault'),
  ...vendorCallConfig('VAULT'),
  ...clientCredentialsConfig('VAULT'),
  ...commandKeysConfig,
  VAULT_BASE_URL: z.url(),
  /** Vault does not document how passCode is encrypted: RSA-OAEP with SHA-256 unless Vault turns out to want another. */
  VAULT_RSA_PADDING: z.enum(RSA_PADDINGS).default('oaep-sha256'),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
