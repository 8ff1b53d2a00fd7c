import { clientCredentialsConfig, vendorCallConfig, workerConfig } from '@pinflow/worker-kit';
import { z } from 'zod';

// No PIN keys: the device encrypted the PIN to Solaris' key, and pinflow has nothing to decrypt.
export const workerConfigSchema = z.object({
  ...workerConfig('solaris'),
  ...vendorCallConfig('SOLARIS'),
  ...clientCredentialsConfig('SOLARIS'),
  /** Solaris' token endpoint wants `scope=partners` for its standard API. */
  SOLARIS_TOKEN_SCOPE: z.string().min(1).default('partners'),
  SOLARIS_BASE_URL: z.url(),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
