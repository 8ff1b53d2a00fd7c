import { brokenPinRule, PIN_RULE_MESSAGES } from './pin-rules';

describe("Solaris' PIN rules", () => {
  it.each(['7392', '1122', '1212', '8901', '1098', '0369', '9630', '1357'])('accept %s', (pin) => {
    expect(brokenPinRule(pin)).toBeUndefined();
  });

  it.each(['123', '12345', '', '12a4', ' 123', '１２３４', '7392\n'])('refuse %j: not exactly 4 digits', (pin) => {
    expect(brokenPinRule(pin)).toBe('FOUR_DIGITS');
  });

  it.each(['1234', '0123', '6789', '4321', '9876', '3210'])('refuse the sequence %s', (pin) => {
    expect(brokenPinRule(pin)).toBe('SEQUENCE');
  });

  it.each(['1112', '1211', '2111', '7077', '5550', '0000'])('refuse %s, which has a digit 3 times or more', (pin) => {
    expect(brokenPinRule(pin)).toBe('REPEATED_DIGIT');
  });

  it('explain every rule without a digit, so no message can quote a PIN', () => {
    expect(Object.values(PIN_RULE_MESSAGES).filter((message) => /[0-9]{2}/.test(message))).toEqual([]);
  });
});
