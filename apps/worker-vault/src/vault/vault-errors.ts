import { parseJsonOrText, VendorCallResult } from '@pinflow/worker-kit';
import { z } from 'zod';

const optionalText = z.string().optional().catch(undefined);

/**
 * The parts of Vault's error body (`{error, errorId, message, field, systemId, ...}`) pinflow reads:
 * `error` names the problem (CODE_INVALID, KEY_EXPIRED...), `field` the request field at fault.
 */
const vaultErrorBody = z.object({ error: z.string().min(1), message: optionalText, field: optionalText });
export type VaultError = z.output<typeof vaultErrorBody>;

/** Vault's error, when the answer is one in Vault's shape. */
export function vaultErrorOf(result: VendorCallResult): VaultError | undefined {
  if (result.kind !== 'answered') return undefined;
  const parsed = vaultErrorBody.safeParse(parseJsonOrText(result.body));
  return parsed.success ? parsed.data : undefined;
}

/** Vault refused the `keyId`: its key was rotated since pinflow fetched it. */
export function isKeyExpired(result: VendorCallResult): boolean {
  return vaultErrorOf(result)?.error === 'KEY_EXPIRED';
}
