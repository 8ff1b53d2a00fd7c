import { checkPin, type PinViolationCode } from './check-pin';
import { COMMON_PINS, PISMO_PIN_RULES, SOLARIS_PIN_RULES, THALES_D1_PIN_RULES, VAULT_PIN_RULES, type PinRules } from './pin-rules';

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
    ['1357', []],
    ['123465', []],
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
    ['654321', ['SEQUENCE']],
    ['8901', ['SEQUENCE']],
    ['1098', ['SEQUENCE']],
    ['0000', ['ALL_SAME', 'BLOCKLISTED']],
    ['777777', ['ALL_SAME']],
    ['1212', ['BLOCKLISTED']],
    ['2580', ['BLOCKLISTED']],
    ['1004', ['BLOCKLISTED']],
  ])('%j → %j', (pin, expected) => {
    expect(codes(pin, PISMO_PIN_RULES)).toEqual(expected);
  });

  it('blocks every PIN on the common-PIN list', () => {
    expect(COMMON_PINS.filter((pin) => checkPin(pin, PISMO_PIN_RULES).ok)).toEqual([]);
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
    ['1122', ['BLOCKLISTED']],
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
    ['123456789', ['SEQUENCE']],
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

  it('states the allowed length in the message', () => {
    expect(checkPin('123', PISMO_PIN_RULES)).toEqual({
      ok: false,
      violations: [{ code: 'LENGTH', message: 'PIN must be 4 to 6 digits' }],
    });
    expect(checkPin('123', VAULT_PIN_RULES)).toEqual({
      ok: false,
      violations: [{ code: 'LENGTH', message: 'PIN must be exactly 4 digits' }],
    });
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
