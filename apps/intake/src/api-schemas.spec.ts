import { cardIdParam, emptyBody, thalesD1CardIdParam, thalesD1IssuerIdParam, vaultCardIdParam, vaultCheckVerificationCodeBody } from '@pinflow/contracts';

/** Path ids as Express hands them over: percent-decoded, so %2F is already a `/`. */
const HOSTILE_IDS: Array<[string, string]> = [
  ['a slash', 'ISSUE/0001'],
  ['a parent step', '../ISSUE01'],
  ['a NUL', 'ISSUER\u0000001'],
  ['CR/LF', 'ISSUER\r\n01'],
  ['a question mark', 'ISSUER?001'],
  ['a hash', 'ISSUER#001'],
  ['a space', 'ISSUER 001'],
  ['non-ASCII letters', 'ISSUÉR0001'],
  ['a dot', 'ISSUER.001'],
];

describe('path ids intake accepts', () => {
  it.each(HOSTILE_IDS)('refuse a Thales D1 issuer id with %s, though it is 10 characters', (_case, issuerId) => {
    expect(issuerId).toHaveLength(10);
    expect(thalesD1IssuerIdParam.safeParse(issuerId).success).toBe(false);
  });

  it('accept a Thales D1 issuer id of 10 letters, digits, _ or -', () => {
    expect(thalesD1IssuerIdParam.parse('ISSUER_0-1')).toBe('ISSUER_0-1');
  });

  it.each(HOSTILE_IDS)('refuse a card id with %s', (_case, id) => {
    expect(cardIdParam.safeParse(id).success).toBe(false);
    expect(thalesD1CardIdParam.safeParse(id).success).toBe(false);
  });

  it.each([
    ['1', true],
    ['9223372036854775807', true],
    ['9223372036854775808', false],
    ['9999999999999999999', false],
    ['18446744073709551615', false],
    ['0', false],
    ['-1', false],
    ['0123', false],
    ['1e3', false],
    ['１２３', false],
  ])('take the Vault card id %s as a positive int64: %s', (id, valid) => {
    expect(vaultCardIdParam.safeParse(id).success).toBe(valid);
  });
});

describe('bodies of operations that take nothing but the card', () => {
  it('accept no body or an empty object', () => {
    expect(emptyBody.safeParse(undefined).success).toBe(true);
    expect(emptyBody.safeParse({}).success).toBe(true);
  });

  it('refuse any field, so a caller who thinks it sent something learns it did not', () => {
    expect(emptyBody.safeParse({ blockCardExceedsCounter: true }).success).toBe(false);
  });
});

describe('the body of a Vault code check', () => {
  const JWE = 'eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn';

  it('takes the code encrypted or in clear', () => {
    expect(vaultCheckVerificationCodeBody.safeParse({ encryptedCode: JWE }).success).toBe(true);
    expect(vaultCheckVerificationCodeBody.safeParse({ code: '123456' }).success).toBe(true);
  });

  it('refuses both at once, neither, or another field', () => {
    expect(vaultCheckVerificationCodeBody.safeParse({ encryptedCode: JWE, code: '123456' }).success).toBe(false);
    expect(vaultCheckVerificationCodeBody.safeParse({}).success).toBe(false);
    expect(vaultCheckVerificationCodeBody.safeParse({ encryptedCode: JWE, passcode: '1234' }).success).toBe(false);
  });
});
