import { passcodeProblem } from './passcode-rules';

describe("Vault's passcode rule", () => {
  it.each(['7392', '1122', '1211', '0901', '1234', '9009'])('accepts %s', (passcode) => {
    expect(passcodeProblem(passcode)).toBeUndefined();
  });

  it.each(['1112', '2111', '4444', '0000', '5999'])('refuses %s: a digit three times in a row', (passcode) => {
    expect(passcodeProblem(passcode)).toBe('PASSCODE_TOO_WEAK');
  });

  it.each(['123', '12345', '12a4', ' 1234', '１２３４', ''])('refuses %j: not exactly 4 digits', (passcode) => {
    expect(passcodeProblem(passcode)).toBe('PASSCODE_INVALID_FORMAT');
  });
});
