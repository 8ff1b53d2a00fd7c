import { basicCredentials, credentialsMatch, TokenIssuer } from './tokens';

describe('TokenIssuer', () => {
  it('issues distinct bearer tokens that are valid until their time to live has passed', () => {
    const issuer = new TokenIssuer();
    const first = issuer.issue(300, 1_000_000);
    const second = issuer.issue(300, 1_000_000);
    expect(first).toEqual({ access_token: expect.stringMatching(/^[\w-]{43}$/), token_type: 'Bearer', expires_in: 300 });
    expect(second.access_token).not.toEqual(first.access_token);
    expect(issuer.isValid(first.access_token, 1_000_000 + 299_999)).toBe(true);
    expect(issuer.isValid(first.access_token, 1_000_000 + 300_000)).toBe(false);
  });

  it('knows no token it did not issue, and none after revoking all', () => {
    const issuer = new TokenIssuer();
    const { access_token } = issuer.issue(300);
    expect(issuer.isValid('made-up')).toBe(false);
    issuer.revokeAll();
    expect(issuer.isValid(access_token)).toBe(false);
  });
});

describe('client credentials', () => {
  const expected = { clientId: 'pinflow', clientSecret: 's3cret' };

  it('match only when both the id and the secret are right', () => {
    expect(credentialsMatch({ clientId: 'pinflow', clientSecret: 's3cret' }, expected)).toBe(true);
    expect(credentialsMatch({ clientId: 'pinflow', clientSecret: 's3cret!' }, expected)).toBe(false);
    expect(credentialsMatch({ clientId: 'other', clientSecret: 's3cret' }, expected)).toBe(false);
  });

  it('are read from an HTTP Basic header, form-decoded', () => {
    const header = `Basic ${Buffer.from('pin%3Aflow:a+b%26c').toString('base64')}`;
    expect(basicCredentials(header)).toEqual({ clientId: 'pin:flow', clientSecret: 'a b&c' });
  });

  it('are absent from a missing, Bearer or malformed Basic header', () => {
    expect(basicCredentials(undefined)).toBeUndefined();
    expect(basicCredentials('Bearer abc')).toBeUndefined();
    expect(basicCredentials(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
  });
});
