import { commandKeysConfig } from '@pinflow/pin-crypto';
import { clientCredentialsConfig, vendorCallConfig, workerConfig } from '@pinflow/worker-kit';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  ...workerConfig('thales-d1'),
  ...vendorCallConfig('THALES_D1'),
  ...clientCredentialsConfig('THALES_D1'),
  ...commandKeysConfig,
  /** The card management system's PIN Management API; paths start at /cms/api/v1. */
  THALES_D1_BASE_URL: z.url(),
  /**
   * The CMS's P-256 public JWK (with its kid), which PIN blocks are encrypted to; exchanged at
   * onboarding. Read and checked at start-up.
   */
  THALES_D1_CMS_PUBLIC_KEY_FILE: z.string().min(1),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
