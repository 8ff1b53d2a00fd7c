import { checkPin, COMMON_PINS_BY_LENGTH, type PinRules, type PinViolationCode } from '@pinflow/pin-policy';
import { PISMO_PIN_RULES } from './pismo';
import { SOLARIS_PIN_RULES } from './solaris';
import { THALES_D1_PIN_RULES } from './thales-d1';
import { VAULT_PIN_RULES } from './vault';

type Expectation = [pin: string, violations: PinViolationCode[]];

function codes(pin: string, rules: PinRules): PinViolationCode[] {
  const result = checkPin(pin, rules);
  return result.ok ? [] : result.violations.map((violation) => violation.code);
}

describe('checkPin with PISMO_PIN_RULES', () => {
  it.each<Expectation>([
    ['7392', []],
    ['73920', []],
    ['739201', []],
    ['123465', []],
    ['7392', []],
    ['1112', []],
    ['123', ['LENGTH']],
    ['7392018', ['LENGTH']],
    ['', ['LENGTH']],
    ['73a2', ['NOT_DIGITS']],
    ['73 92', ['NOT_DIGITS']],
    ['７３９２', ['NOT_DIGITS']],
    ['7a3', ['NOT_DIGITS', 'LENGTH']],
    ['1234', ['SEQUENCE', 'BLOCKLISTED']],
    ['9876', ['SEQUENCE']],
    ['012345', ['SEQUENCE']],
    ['654321', ['SEQUENCE', 'BLOCKLISTED']],
    ['8901', ['SEQUENCE']],
    ['1098', ['SEQUENCE']],
    ['0000', ['ALL_SAME', 'BLOCKLISTED']],
    ['777777', ['ALL_SAME', 'BLOCKLISTED']],
    ['1212', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['2580', ['KEYPAD_PATTERN', 'BLOCKLISTED']],
    ['1004', ['BLOCKLISTED']],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, PISMO_PIN_RULES)).toEqual(expected);
  });

  it.each([4, 5, 6])('blocks every %i-digit PIN on the common-PIN list', (length) => {
    expect(COMMON_PINS_BY_LENGTH[length].filter((pin) => checkPin(pin, PISMO_PIN_RULES).ok)).toEqual([]);
  });
});

describe('checkPin with SOLARIS_PIN_RULES', () => {
  it.each<Expectation>([
    ['7392', []],
    ['1122', []],
    ['1212', []],
    ['73920', ['LENGTH']],
    ['739', ['LENGTH']],
    ['1234', ['SEQUENCE']],
    ['8901', ['SEQUENCE']],
    ['0000', ['REPEATED_DIGIT']],
    ['1112', ['REPEATED_DIGIT']],
    ['1211', ['REPEATED_DIGIT']],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, SOLARIS_PIN_RULES)).toEqual(expected);
  });
});

describe('checkPin with VAULT_PIN_RULES (Vault\'s rule plus pinflow\'s weak-PIN policy)', () => {
  it.each<Expectation>([
    ['7392', []],
    ['1211', []],
    ['1122', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['1234', ['SEQUENCE', 'BLOCKLISTED']],
    ['12345', ['LENGTH']],
    ['1112', ['REPEATED_RUN']],
    ['2111', ['REPEATED_RUN']],
    ['7992', []],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, VAULT_PIN_RULES)).toEqual(expected);
  });
});

describe('checkPin with THALES_D1_PIN_RULES (ISO 9564 lengths plus pinflow\'s weak-PIN policy)', () => {
  it.each<Expectation>([
    ['7392', []],
    ['739201846153', []],
    ['123', ['LENGTH']],
    ['7392018461537', ['LENGTH']],
    ['123456789', ['SEQUENCE', 'BLOCKLISTED']],
    ['5555', ['ALL_SAME', 'BLOCKLISTED']],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, THALES_D1_PIN_RULES)).toEqual(expected);
  });
});

describe('checkPin', () => {
  it('answers exactly {ok: true} for an acceptable PIN', () => {
    expect(checkPin('7392', PISMO_PIN_RULES)).toEqual({ ok: true });
  });

  it('applies only the checks a rule set names', () => {
    expect(checkPin('1111', { minLength: 4, maxLength: 8 })).toEqual({ ok: true });
  });

  it('sums a malformed PIN up as FORMAT, stating the allowed length', () => {
    expect(checkPin('123', PISMO_PIN_RULES)).toEqual({
      ok: false,
      reason: 'FORMAT',
      message: 'PIN must be 4 to 6 digits',
      violations: [{ code: 'LENGTH', message: 'PIN must be 4 to 6 digits' }],
    });
    expect(checkPin('12a', VAULT_PIN_RULES)).toMatchObject({ ok: false, reason: 'FORMAT', message: 'PIN must be exactly 4 digits' });
  });

  it('sums a weak PIN up as WEAK without saying which weakness: each one narrows the PIN down', () => {
    expect(checkPin('2580', PISMO_PIN_RULES)).toMatchObject({ ok: false, reason: 'WEAK', message: 'PIN is too easy to guess' });
  });

  it.each([
    ['8264913', PISMO_PIN_RULES],
    ['82a6', PISMO_PIN_RULES],
    ['9876', PISMO_PIN_RULES],
    ['5555', PISMO_PIN_RULES],
    ['6969', PISMO_PIN_RULES],
    ['7077', SOLARIS_PIN_RULES],
    ['9998', VAULT_PIN_RULES],
  ])('never puts the PIN %j into a violation message', (pin, rules) => {
    const result = checkPin(pin, rules);

    if (result.ok) throw new Error(`expected ${pin} to be refused`);
    for (const violation of result.violations) expect(violation.message).not.toContain(pin);
  });
});

describe('the weak-PIN policy, for every vendor intake checks', () => {
  const rulesOf = (pin: string) => (pin.length === 4 ? VAULT_PIN_RULES : pin.length <= 6 ? PISMO_PIN_RULES : THALES_D1_PIN_RULES);

  it.each<Expectation>([
    ['0852', ['KEYPAD_PATTERN']],
    ['1470', ['CONSTANT_STEP', 'KEYPAD_PATTERN']],
    ['3698', ['KEYPAD_PATTERN']],
    ['9630', ['CONSTANT_STEP', 'KEYPAD_PATTERN']],
    ['7410', ['KEYPAD_PATTERN']],
    ['1590', ['KEYPAD_PATTERN']],
    ['1357', ['CONSTANT_STEP']],
    ['2468', ['CONSTANT_STEP']],
    ['7531', ['CONSTANT_STEP']],
    ['1984', ['YEAR', 'BLOCKLISTED']],
    ['1990', ['YEAR']],
    ['2020', ['YEAR', 'REPEATED_GROUP']],
    ['1221', ['PALINDROME']],
    ['2112', ['PALINDROME']],
    ['4545', ['REPEATED_GROUP']],
    ['5885', ['PALINDROME']],
    ['12321', ['KEYPAD_PATTERN', 'PALINDROME', 'BLOCKLISTED']],
    ['123321', ['PALINDROME', 'BLOCKLISTED']],
    ['123123', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['121212', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['112233', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['111222', ['REPEATED_GROUP', 'BLOCKLISTED']],
    ['159753', ['BLOCKLISTED']],
    ['147258', ['BLOCKLISTED']],
    ['789456', ['BLOCKLISTED']],
    ['8675309', ['BLOCKLISTED']],
    ['7391273912', ['REPEATED_GROUP']],
    ['739201846153', []],
    ['7392', []],
    ['0739', []],
    ['6093', []],
    ['739146', []],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, rulesOf(pin))).toEqual(expected);
  });

  it('leaves most PINs to choose from: over 90% of 4-digit PINs pass', () => {
    const accepted = Array.from({ length: 10_000 }, (_, n) => String(n).padStart(4, '0')).filter((pin) => checkPin(pin, PISMO_PIN_RULES).ok);
    expect(accepted.length).toBeGreaterThan(9_000);
  });
});
