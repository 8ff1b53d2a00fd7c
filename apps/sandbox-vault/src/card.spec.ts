import { cardIdFrom } from './card';

describe("Vault's card ids", () => {
  it('are int64 from 1 to 2^63-1, kept in canonical form', () => {
    expect(cardIdFrom('1')).toBe('1');
    expect(cardIdFrom('1234435')).toBe('1234435');
    expect(cardIdFrom('9223372036854775807')).toBe('9223372036854775807');
    expect(cardIdFrom('007')).toBe('7');
  });

  it.each(['0', '9223372036854775808', '-1', '1.5', '1e3', 'abc', '', ' 1', '99999999999999999999999999'])('refuse %j', (raw) => {
    expect(cardIdFrom(raw)).toBeUndefined();
  });
});
