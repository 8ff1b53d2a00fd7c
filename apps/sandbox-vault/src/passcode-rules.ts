/** Why Vault refuses a passcode. */
export type PasscodeProblem = 'PASSCODE_INVALID_FORMAT' | 'PASSCODE_TOO_WEAK';

/**
 * Vault's rule (its newer API): exactly 4 digits, and no digit three times in a row. The sandbox states
 * the vendor's rule itself, apart from pinflow's PIN policy, so that a mistake in one cannot hide the
 * same mistake in the other.
 */
export function passcodeProblem(passcode: string): PasscodeProblem | undefined {
  if (!/^\d{4}$/.test(passcode)) return 'PASSCODE_INVALID_FORMAT';
  if (/(\d)\1\1/.test(passcode)) return 'PASSCODE_TOO_WEAK';
  return undefined;
}
