import { commandKeysConfig } from '@pinflow/pin-crypto';
import { clientCredentialsConfig, vendorCallConfig, workerConfig } from '@pinflow/worker-kit';
import { z } from 'zod';

// Its command keys, for the TAN that confirms a change request; the PIN itself the device encrypted to Solaris' key.
export const workerConfigSchema = z.object({
  ...workerConfig('solaris'),
  ...vendorCallConfig('SOLARIS'),
  ...clientCredentialsConfig('SOLARIS'),
  ...commandKeysConfig,
  /** Solaris' token endpoint wants `scope=partners` for its standard API. */
  SOLARIS_TOKEN_SCOPE: z.string().min(1).default('partners'),
  SOLARIS_BASE_URL: z.url(),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
