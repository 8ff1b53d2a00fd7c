import { isKeypadPattern } from './keypad';
import type { PinRules } from './pin-rules';

export type PinViolationCode =
  | 'NOT_DIGITS'
  | 'LENGTH'
  | 'SEQUENCE'
  | 'ALL_SAME'
  | 'REPEATED_DIGIT'
  | 'REPEATED_RUN'
  | 'CONSTANT_STEP'
  | 'KEYPAD_PATTERN'
  | 'YEAR'
  | 'REPEATED_GROUP'
  | 'PALINDROME'
  | 'BLOCKLISTED';

/** A broken rule. The message is safe to return to callers and to log: it never contains the PIN. */
export interface PinViolation {
  code: PinViolationCode;
  message: string;
}

/**
 * Why a PIN was refused, in general terms a caller may be told: `FORMAT` (not digits, or a length the
 * vendor does not take) or `WEAK` (too easy to guess). Which weakness it was stays inside: each one
 * narrows down the PIN for whoever reads the answer.
 */
export type PinRejectionReason = 'FORMAT' | 'WEAK';

export type PinCheckResult =
  | { ok: true }
  | { ok: false; reason: PinRejectionReason; message: string; violations: PinViolation[] };

/** The step from each digit to the next, modulo 10 (so 9 → 0 is a step of 1 and 0 → 9 one of 9). */
function stepsOf(digits: number[]): number[] {
  return digits.slice(1).map((digit, i) => (digit - digits[i] + 10) % 10);
}

function isSequence(digits: number[]): boolean {
  const steps = stepsOf(digits);
  return steps.every((step) => step === 1) || steps.every((step) => step === 9);
}

function isConstantStep(digits: number[]): boolean {
  const steps = stepsOf(digits);
  return steps[0] !== 0 && steps[0] !== 1 && steps[0] !== 9 && steps.every((step) => step === steps[0]);
}

function isYear(pin: string): boolean {
  return pin.length === 4 && /^(19|20)/.test(pin);
}

/** One group repeated (1212, 123123), or runs all of one length of two or more (1122, 112233, 111222). */
function isRepeatedGroup(pin: string): boolean {
  const repeatsAGroup = [...Array(pin.length).keys()]
    .slice(1)
    .some((size) => pin.length % size === 0 && pin.length > size && pin.slice(0, size).repeat(pin.length / size) === pin);
  const runs = pin.match(/(\d)\1*/g)!;
  const evenRuns = runs.length > 1 && runs[0].length > 1 && runs.every((run) => run.length === runs[0].length);
  return repeatsAGroup || evenRuns;
}

function isPalindrome(pin: string): boolean {
  return [...pin].reverse().join('') === pin;
}

function longestRun(pin: string): number {
  let longest = 1;
  let current = 1;
  for (let i = 1; i < pin.length; i += 1) {
    current = pin[i] === pin[i - 1] ? current + 1 : 1;
    longest = Math.max(longest, current);
  }
  return longest;
}

function mostRepeats(pin: string): number {
  const counts = new Map<string, number>();
  for (const digit of pin) counts.set(digit, (counts.get(digit) ?? 0) + 1);
  return Math.max(...counts.values());
}

function lengthMessage({ minLength, maxLength }: PinRules): string {
  return minLength === maxLength ? `PIN must be exactly ${minLength} digits` : `PIN must be ${minLength} to ${maxLength} digits`;
}

function weaknesses(pin: string, rules: PinRules): PinViolation[] {
  const violations: PinViolation[] = [];
  const digits = [...pin].map(Number);
  if (rules.forbidSequences && isSequence(digits)) {
    violations.push({ code: 'SEQUENCE', message: 'PIN must not be a run of ascending or descending digits' });
  }
  if (rules.forbidAllSame && new Set(digits).size === 1) {
    violations.push({ code: 'ALL_SAME', message: 'PIN must not repeat a single digit' });
  }
  if (rules.maxRepeatsOfDigit !== undefined && mostRepeats(pin) > rules.maxRepeatsOfDigit) {
    violations.push({
      code: 'REPEATED_DIGIT',
      message: `No digit may appear more than ${rules.maxRepeatsOfDigit} times in the PIN`,
    });
  }
  if (rules.maxRunLength !== undefined && longestRun(pin) > rules.maxRunLength) {
    violations.push({
      code: 'REPEATED_RUN',
      message: `PIN must not have more than ${rules.maxRunLength} identical digits in a row`,
    });
  }
  // Patterns of one digit are ALL_SAME; calling 7777 a palindrome or a repeated group too adds nothing.
  const mixed = new Set(digits).size > 1;
  if (rules.forbidConstantSteps && isConstantStep(digits)) {
    violations.push({ code: 'CONSTANT_STEP', message: 'PIN must not rise or fall by a constant step' });
  }
  if (rules.forbidKeypadPatterns && isKeypadPattern(pin)) {
    violations.push({ code: 'KEYPAD_PATTERN', message: 'PIN must not trace a line on the keypad' });
  }
  if (rules.forbidYears && isYear(pin)) {
    violations.push({ code: 'YEAR', message: 'PIN must not be a year' });
  }
  if (rules.forbidRepeatedGroups && mixed && isRepeatedGroup(pin)) {
    violations.push({ code: 'REPEATED_GROUP', message: 'PIN must not repeat a group of digits' });
  }
  if (rules.forbidPalindromes && mixed && isPalindrome(pin)) {
    violations.push({ code: 'PALINDROME', message: 'PIN must not read the same backwards' });
  }
  if (rules.blocklist?.includes(pin)) {
    violations.push({ code: 'BLOCKLISTED', message: 'PIN is one of the most commonly chosen PINs' });
  }
  return violations;
}

/** Checks a candidate PIN against a rule set, reporting every rule it breaks. */
export function checkPin(pin: string, rules: PinRules): PinCheckResult {
  const violations: PinViolation[] = [];
  if (!/^[0-9]*$/.test(pin)) violations.push({ code: 'NOT_DIGITS', message: 'PIN must contain digits only' });
  if (pin.length < rules.minLength || pin.length > rules.maxLength) {
    violations.push({ code: 'LENGTH', message: lengthMessage(rules) });
  }
  if (violations.length > 0) return { ok: false, reason: 'FORMAT', message: lengthMessage(rules), violations };
  // Weak-PIN rules are about choices among valid PINs; a malformed PIN is already refused, and
  // judging, say, "12" a sequence would only add noise.
  const weak = weaknesses(pin, rules);
  if (weak.length > 0) return { ok: false, reason: 'WEAK', message: 'PIN is too easy to guess', violations: weak };
  return { ok: true };
}
