// Solaris' own PIN rules, written here rather than taken from pinflow's policy library: a vendor
// simulator that shared pinflow's code would agree with pinflow's mistakes instead of exposing them.

/**
 * Each rule as a predicate of the PIN ("pin must be..."), phrased without the PIN so that it can go
 * into an error body or a log line.
 */
export const PIN_RULE_MESSAGES = {
  FOUR_DIGITS: 'must be exactly 4 digits',
  SEQUENCE: 'must not be an ascending or descending sequence of digits',
  REPEATED_DIGIT: 'must not contain the same digit 3 or more times',
} as const;
export type PinRule = keyof typeof PIN_RULE_MESSAGES;

function isSequence(pin: string): boolean {
  const steps = [...pin].slice(1).map((digit, i) => Number(digit) - Number(pin[i]));
  return steps.every((step) => step === 1) || steps.every((step) => step === -1);
}

function hasDigitThreeTimes(pin: string): boolean {
  return [...pin].some((digit) => pin.split(digit).length - 1 >= 3);
}

/**
 * The rule the PIN breaks, if any: exactly 4 digits, not an ascending or descending run (1234,
 * 6543), no digit 3 or more times (1112, 1211). A 4-digit run has 4 different digits, so a PIN
 * breaks one rule at most. Runs do not wrap around: Solaris documents runs, and 8901 is not one.
 */
export function brokenPinRule(pin: string): PinRule | undefined {
  if (!/^[0-9]{4}$/.test(pin)) return 'FOUR_DIGITS';
  if (isSequence(pin)) return 'SEQUENCE';
  if (hasDigitThreeTimes(pin)) return 'REPEATED_DIGIT';
  return undefined;
}
