import { COMMON_PINS } from './common-pins';

/**
 * What makes a PIN acceptable, as data: each vendor's (in its contract, @pinflow/contracts) and pinflow's
 * own weak-PIN policy are values of this type, so a new vendor needs no new code. Omitted checks are not applied.
 */
export interface PinRules {
  readonly minLength: number;
  readonly maxLength: number;
  /** Rejects PINs whose digits all step up or all step down by one, wrapping 9↔0 (1234, 9876, 8901). */
  readonly forbidSequences?: boolean;
  /** Rejects PINs made of one digit only (0000). */
  readonly forbidAllSame?: boolean;
  /** The most times any one digit may occur anywhere in the PIN. */
  readonly maxRepeatsOfDigit?: number;
  /** The most identical digits allowed in a row. */
  readonly maxRunLength?: number;
  /** Rejects PINs whose digits all rise or all fall by one same step other than one, wrapping 9↔0 (1357, 2468, 9630). */
  readonly forbidConstantSteps?: boolean;
  /** Rejects PINs traced in straight lines on a phone or computer keypad (2580, 0852, 3698, 7410). */
  readonly forbidKeypadPatterns?: boolean;
  /** Rejects 4-digit PINs that are a year from 1900 to 2099. */
  readonly forbidYears?: boolean;
  /** Rejects PINs made of one group repeated (1212, 123123) or of equally long runs (1122, 112233, 111222). */
  readonly forbidRepeatedGroups?: boolean;
  /** Rejects PINs that read the same backwards (1221, 12321, 123321). */
  readonly forbidPalindromes?: boolean;
  /** PINs rejected outright because too many people choose them. */
  readonly blocklist?: readonly string[];
}

/**
 * pinflow's weak-PIN policy, the same whatever the vendor: PINs an attacker tries first (patterns
 * people pick because they are easy to remember, and the most common PINs) are refused.
 */
export const WEAK_PIN_POLICY = {
  forbidSequences: true,
  forbidAllSame: true,
  forbidConstantSteps: true,
  forbidKeypadPatterns: true,
  forbidYears: true,
  forbidRepeatedGroups: true,
  forbidPalindromes: true,
  blocklist: COMMON_PINS,
} as const satisfies Partial<PinRules>;
