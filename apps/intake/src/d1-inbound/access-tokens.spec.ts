import { D1AccessTokens } from './access-tokens';
import { D1Error, TokenRefusal } from './d1-errors';

describe("D1's access tokens at pinflow", () => {
  const CLIENT_ID = 'thales-d1';
  const SECRET = 's3cret:with+symbols&more-than-32-characters';
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  let clock: Date;
  const tokens = (secret = SECRET) => new D1AccessTokens(CLIENT_ID, secret, 300, () => clock);

  beforeEach(() => {
    clock = new Date('2026-12-04T12:00:00Z');
  });

  const refusalOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof TokenRefusal || error instanceof D1Error ? { status: error.getStatus(), body: error.getResponse() } : error),
    );

  it('issues a bearer token for D1’s client credentials (form-encoded in Basic, as RFC 6749 says) that it then accepts', async () => {
    const issued = await tokens().issue(basic(CLIENT_ID, SECRET), 'client_credentials');

    expect(issued).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'pin_management' });
    await expect(tokens().verify(`Bearer ${issued.access_token}`)).resolves.toBe(CLIENT_ID);
  });

  it.each([
    ['a wrong secret', basic(CLIENT_ID, 'guess'), 'client_credentials', 401, 'invalid_client'],
    ['another client', basic('someone-else', SECRET), 'client_credentials', 401, 'invalid_client'],
    ['no Basic credentials', undefined, 'client_credentials', 401, 'invalid_client'],
    ['another grant', basic(CLIENT_ID, SECRET), 'password', 400, 'unsupported_grant_type'],
    ['no grant', basic(CLIENT_ID, SECRET), undefined, 400, 'invalid_request'],
  ])('refuses a token for %s in OAuth2’s terms', async (_case, authorization, grant, status, error) => {
    expect(await refusalOf(tokens().issue(authorization, grant))).toEqual({ status, body: { error } });
  });

  it('refuses an expired token, one keyed by another secret and anything that is not a bearer token', async () => {
    const { access_token: token } = await tokens().issue(basic(CLIENT_ID, SECRET), 'client_credentials');
    const unauthorized = { status: 401, body: { errorCode: 'UNAUTHORIZED', errorMessage: expect.any(String) } };

    expect(await refusalOf(tokens(`${SECRET}-rotated`).verify(`Bearer ${token}`))).toEqual(unauthorized);
    expect(await refusalOf(tokens().verify(token))).toEqual(unauthorized);
    expect(await refusalOf(tokens().verify(undefined))).toEqual(unauthorized);
    clock = new Date(clock.getTime() + 301_000);
    expect(await refusalOf(tokens().verify(`Bearer ${token}`))).toEqual(unauthorized);
  });
});
