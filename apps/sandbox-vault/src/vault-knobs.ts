import { z } from 'zod';
import { RSA_PADDINGS } from './rsa-keys';

/** Vault's own knobs, next to the kit's. */
export const vaultKnobsSchema = z.strictObject({
  /** How `passCode` is decrypted. */
  rsaPadding: z.enum(RSA_PADDINGS),
  /** Lifetime of one-time codes issued from now on. */
  codeTtlSeconds: z.number().int().positive().max(86_400),
});
export type VaultKnobs = z.infer<typeof vaultKnobsSchema>;

/** What `GET /sandbox/applied` counts, per card. */
export const VAULT_OPERATIONS = ['passcodeSets', 'codesSent'] as const;
export type VaultOperation = (typeof VAULT_OPERATIONS)[number];
