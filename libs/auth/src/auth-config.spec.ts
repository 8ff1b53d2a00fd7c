import { authConfigSchema } from './auth-config';

const base = { AUTH_ISSUER: 'pinflow-dev', AUTH_AUDIENCE: 'pinflow' };

describe('authConfigSchema', () => {
  it.each([
    ['a JWKS URL', { AUTH_JWKS_URL: 'https://login.example/.well-known/jwks.json' }],
    ['a public key file', { AUTH_PUBLIC_KEY_FILE: '.pinflow/dev-signing-key.pub.json' }],
  ])('accepts %s as the key source', (_, source) => {
    expect(authConfigSchema.safeParse({ ...base, ...source }).success).toBe(true);
  });

  it.each([
    ['no key source', {}],
    ['two key sources', { AUTH_JWKS_URL: 'https://login.example/jwks', AUTH_PUBLIC_KEY_FILE: 'key.pem' }],
  ])('refuses %s', (_, sources) => {
    const result = authConfigSchema.safeParse({ ...base, ...sources });

    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['AUTH_JWKS_URL'], message: 'Set exactly one of AUTH_JWKS_URL and AUTH_PUBLIC_KEY_FILE' }),
    ]);
  });

  it('refuses a JWKS URL that is not http(s)', () => {
    expect(authConfigSchema.safeParse({ ...base, AUTH_JWKS_URL: 'file:///etc/jwks.json' }).success).toBe(false);
  });
});
