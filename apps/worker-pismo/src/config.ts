import { positiveInt } from '@pinflow/config';
import { commandKeysConfig } from '@pinflow/pin-crypto';
import { clientCredentialsConfig, vendorCallConfig, workerConfig } from '@pinflow/worker-kit';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  ...workerConfig('pismo'),
  ...vendorCallConfig('PISMO'),
  ...clientCredentialsConfig('PISMO'),
  ...commandKeysConfig,
  /** Pismo's PCI gateway (change password) and its normal API host (password tries) are separate. */
  PISMO_PCI_BASE_URL: z.url(),
  PISMO_API_BASE_URL: z.url(),
  /** The zone PIN key PIN blocks are enciphered under (JSON `{keyId, key}`, the key in hex); read and checked at start-up. */
  PISMO_ZPK_FILE: z.string().min(1),
  /** Where Pismo's own events (update_password-1, issuer_script-1, update-1) arrive. */
  PISMO_EVENTS_TOPIC: z.string().min(1).default('pismo.events'),
  /**
   * How long a PIN change Pismo accepted (or whose answer was lost) waits for update_password-1
   * before it fails with OUTCOME_UNKNOWN. Pismo's connector normally delivers within seconds.
   */
  PISMO_EVENT_TIMEOUT_MS: positiveInt.default(120_000),
  WORKER_VENDOR_EVENT_GROUP: z.string().min(1).default('pinflow-worker-pismo-vendor-events'),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;
