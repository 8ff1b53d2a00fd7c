/**
 * What makes a PIN acceptable, as data: each vendor (and pinflow's own weak-PIN policy) is one value
 * of this type, so a new vendor needs no new code. Omitted checks are not applied.
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
  /** PINs rejected outright because too many people choose them. */
  readonly blocklist?: readonly string[];
}

/**
 * The twenty most common 4-digit PINs in DataGenetics' analysis of 3.4 million leaked 4-digit
 * passwords (Nick Berry, "PIN analysis", 2012,
 * https://www.datagenetics.com/blog/september32012/), plus 2580, the keypad's middle column, which
 * the same analysis singles out. Several are also caught by the sequence and all-same checks; they stay
 * here so the list can be compared with its source.
 */
export const COMMON_PINS: readonly string[] = [
  '1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969',
  '9999', '3333', '5555', '6666', '1122', '1313', '8888', '4321', '2001', '1010',
  '2580',
];

/**
 * Pismo accepts 4 to 6 digits (PUT /cards/{id}/password, https://developers.pismo.io); the weak-PIN
 * checks are pinflow's own policy on top.
 */
export const PISMO_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 6,
  forbidSequences: true,
  forbidAllSame: true,
  blocklist: COMMON_PINS,
};

/** Solaris: exactly 4 digits, no sequence, no digit three times or more. */
export const SOLARIS_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 4,
  forbidSequences: true,
  maxRepeatsOfDigit: 2,
};

/**
 * Vault: exactly 4 digits, no more than two identical digits in a row (1122 is fine, 1112 is not);
 * pinflow's weak-PIN checks on top.
 */
export const VAULT_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 4,
  maxRunLength: 2,
  forbidSequences: true,
  forbidAllSame: true,
  blocklist: COMMON_PINS,
};

/**
 * A card management system behind Thales D1 takes what an ISO 9564 PIN block can carry: 4 to 12
 * digits; pinflow's weak-PIN checks on top.
 */
export const THALES_D1_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 12,
  forbidSequences: true,
  forbidAllSame: true,
  blocklist: COMMON_PINS,
};
