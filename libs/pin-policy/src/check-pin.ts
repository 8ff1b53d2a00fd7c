import type { PinRules } from './pin-rules';

export type PinViolationCode =
  | 'NOT_DIGITS'
  | 'LENGTH'
  | 'SEQUENCE'
  | 'ALL_SAME'
  | 'REPEATED_DIGIT'
  | 'REPEATED_RUN'
  | 'BLOCKLISTED';

/** A broken rule. The message is safe to return to callers and to log: it never contains the PIN. */
export interface PinViolation {
  code: PinViolationCode;
  message: string;
}

export type PinCheckResult = { ok: true } | { ok: false; violations: PinViolation[] };

function isSequence(digits: number[]): boolean {
  const steps = digits.slice(1).map((digit, i) => (digit - digits[i] + 10) % 10);
  return steps.every((step) => step === 1) || steps.every((step) => step === 9);
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
  // Weak-PIN rules are about choices among valid PINs; a malformed PIN is already refused, and
  // judging, say, "12" a sequence would only add noise.
  if (violations.length === 0) violations.push(...weaknesses(pin, rules));
  return violations.length === 0 ? { ok: true } : { ok: false, violations };
}
