import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, SignJWT, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { generateDevSigningKey, mintToken, type DevSigningKey } from './dev-keys';
import { JwtVerifier, KeySetUnavailableError, TokenRejectedError, VERIFIED_TOKEN_TTL_MS, type TokenRejectionCode } from './jwt-verifier';

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'pinflow';

let dir: string;
let key: DevSigningKey;
let verifier: JwtVerifier;

async function writeKeyFile(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function sign(claims: JWTPayload, options: { signer?: DevSigningKey; kid?: string; exp?: string | null; iat?: string } = {}): Promise<string> {
  const signer = options.signer ?? key;
  const jwt = new SignJWT({ sub: 'backoffice', iss: ISSUER, aud: AUDIENCE, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? signer.kid })
    .setIssuedAt(options.iat);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? '5m');
  return jwt.sign(signer.privateJwk);
}

async function rejection(token: string, by = verifier): Promise<TokenRejectedError> {
  const error: unknown = await by.verify(token).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof TokenRejectedError)) throw new Error(`expected a TokenRejectedError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jwt-verifier-'));
  key = await generateDevSigningKey();
  verifier = await JwtVerifier.fromConfig({
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY_FILE: await writeKeyFile('public.json', key.publicJwk),
  });
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('JwtVerifier.verify', () => {
  it('yields the subject and the scopes of a valid token', async () => {
    const token = await mintToken({
      privateKey: key.privateJwk,
      kid: key.kid,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'backoffice',
      scopes: ['pin:write', 'pin:read'],
      expiresIn: '5m',
    });

    expect(await verifier.verify(token)).toEqual({ subject: 'backoffice', scopes: new Set(['pin:write', 'pin:read']) });
  });

  it.each<[string, JWTPayload, string[]]>([
    ['a space-separated scope claim', { scope: 'pin:write  pin:read' }, ['pin:write', 'pin:read']],
    ['an scp array', { scp: ['pin:read'] }, ['pin:read']],
    ['a space-separated scp string', { scp: 'pin:read pin:write' }, ['pin:read', 'pin:write']],
    ['both scope and scp', { scope: 'pin:write', scp: ['pin:read'] }, ['pin:write', 'pin:read']],
    ['no scope claim at all', {}, []],
  ])('reads scopes from %s', async (_, claims, scopes) => {
    expect((await verifier.verify(await sign(claims))).scopes).toEqual(new Set(scopes));
  });

  it.each<[string, JWTPayload, string]>([
    ['client_id', { client_id: 'backoffice-app' }, 'backoffice-app'],
    ['azp', { azp: 'keycloak-client' }, 'keycloak-client'],
  ])('names the client from %s', async (_, claims, clientId) => {
    expect((await verifier.verify(await sign(claims))).clientId).toBe(clientId);
  });

  it('names the caller\'s tenant from the tenant claim, and no tenant when the token has none', async () => {
    expect((await verifier.verify(await sign({ tenant: 'acme' }))).tenant).toBe('acme');
    expect(await verifier.verify(await sign({}))).not.toHaveProperty('tenant');
  });

  it('reads the tenant from the claim AUTH_TENANT_CLAIM names', async () => {
    const byOrganisation = new JwtVerifier(createLocalJWKSet({ keys: [key.publicJwk] }), { issuer: ISSUER, audience: AUDIENCE }, 'org_id');
    expect((await byOrganisation.verify(await sign({ org_id: 'acme', tenant: 'not-this' }))).tenant).toBe('acme');
  });

  it('tolerates 30 seconds of clock skew on expiry and on the issue time', async () => {
    expect((await verifier.verify(await sign({}, { exp: '-10s' }))).subject).toBe('backoffice');
    expect((await verifier.verify(await sign({}, { iat: '10s' }))).subject).toBe('backoffice');
  });

  it.each<[string, TokenRejectionCode, () => Promise<string>]>([
    ['expired beyond the clock tolerance', 'TOKEN_EXPIRED', () => sign({}, { exp: '-1m' })],
    ['issued in the future beyond the clock tolerance', 'TOKEN_INVALID', () => sign({}, { iat: '2m', exp: '10m' })],
    ['for another audience', 'TOKEN_INVALID', () => sign({ aud: 'someone-else' })],
    ['from another issuer', 'TOKEN_INVALID', () => sign({ iss: 'https://evil.example' })],
    ['without expiry', 'TOKEN_INVALID', () => sign({}, { exp: null })],
    ['without subject', 'TOKEN_INVALID', () => sign({ sub: undefined })],
    ['with a scope claim that is not a string', 'TOKEN_INVALID', () => sign({ scope: 42 })],
    ['with a tenant claim that is not one name', 'TOKEN_INVALID', () => sign({ tenant: ['acme', 'globex'] })],
    ['signed by another key under our kid', 'TOKEN_INVALID', async () => sign({}, { signer: await generateDevSigningKey(), kid: key.kid })],
    ['signed by another key under its own kid', 'TOKEN_INVALID', async () => sign({}, { signer: await generateDevSigningKey() })],
    [
      'signed with a shared secret (HS256)',
      'TOKEN_INVALID',
      () =>
        new SignJWT({ sub: 'backoffice', iss: ISSUER, aud: AUDIENCE })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!')),
    ],
    ['that is not a JWT', 'TOKEN_INVALID', async () => 'not.a.jwt'],
  ])('rejects a token %s as %s', async (_, code, token) => {
    expect((await rejection(await token())).code).toBe(code);
  });

  it('tells a key set it cannot get from a bad token, so an outage of the issuer does not turn into 401s', async () => {
    const unreachable = new JwtVerifier(
      async () => {
        throw new TypeError('fetch failed');
      },
      { issuer: ISSUER, audience: AUDIENCE },
    );

    await expect(unreachable.verify(await sign({}))).rejects.toBeInstanceOf(KeySetUnavailableError);
  });

  it('rejects a token without kid that several keys of the set could check as TOKEN_INVALID', async () => {
    const other = await generateDevSigningKey();
    const twoKeys = new JwtVerifier(createLocalJWKSet({ keys: [{ ...key.publicJwk, kid: undefined }, { ...other.publicJwk, kid: undefined }] }), {
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const withoutKid = await new SignJWT({ sub: 'backoffice', iss: ISSUER, aud: AUDIENCE }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('5m').sign(key.privateJwk);

    expect((await rejection(withoutKid, twoKeys)).code).toBe('TOKEN_INVALID');
  });
});

describe('JwtVerifier, for a token it has verified before', () => {
  /** A verifier whose clock the test moves, counting how often it looks up a key to check a signature with. */
  function countingVerifier() {
    const clock = { now: Date.now() };
    const keys = createLocalJWKSet({ keys: [key.publicJwk] });
    const lookups = { count: 0 };
    const counted: JWTVerifyGetKey = (header, token) => {
      lookups.count += 1;
      return keys(header, token);
    };
    return { clock, lookups, verifier: new JwtVerifier(counted, { issuer: ISSUER, audience: AUDIENCE }, undefined, () => clock.now) };
  }

  it('takes the same token again without checking its signature, within a minute', async () => {
    const { clock, lookups, verifier: caching } = countingVerifier();
    const token = await sign({ scope: 'pin:write' }, { exp: '1h' });

    const first = await caching.verify(token);
    clock.now += VERIFIED_TOKEN_TTL_MS - 1;
    const again = await caching.verify(token);

    expect(again).toEqual(first);
    expect(lookups.count).toBe(1);
  });

  it('checks the signature afresh once the minute is over', async () => {
    const { clock, lookups, verifier: caching } = countingVerifier();
    const token = await sign({}, { exp: '1h' });

    await caching.verify(token);
    clock.now += VERIFIED_TOKEN_TTL_MS;
    await caching.verify(token);

    expect(lookups.count).toBe(2);
  });

  it('refuses a token it took before once the token has expired', async () => {
    const { clock, verifier: caching } = countingVerifier();
    const token = await sign({}, { exp: '20s' });

    await caching.verify(token);
    clock.now += 51_000; // past exp and its 30 s of tolerated skew

    expect((await rejection(token, caching)).code).toBe('TOKEN_EXPIRED');
  });

  it('remembers no refusal: a token refused is checked again each time it comes', async () => {
    const { lookups, verifier: caching } = countingVerifier();
    const token = await sign({}, { kid: 'unknown-key' });

    await rejection(token, caching);
    await rejection(token, caching);

    expect(lookups.count).toBe(2);
  });
});

describe('JwtVerifier.fromConfig', () => {
  function rsaToken(privateKey: JWK, claims: JWTPayload = {}): Promise<string> {
    return new SignJWT({ sub: 'backoffice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'whatever-the-issuer-calls-it' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  it('trusts a PEM SPKI public key, whatever kid the token names', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = await writeKeyFile('rsa.pem', publicKey.export({ type: 'spki', format: 'pem' }));
    const fromPem = await JwtVerifier.fromConfig({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_FILE: file });

    const principal = await fromPem.verify(await rsaToken(privateKey.export({ format: 'jwk' }) as JWK));

    expect(principal.subject).toBe('backoffice');
  });

  it('trusts an Ed25519 PEM key for EdDSA tokens', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const file = await writeKeyFile('ed25519.pem', publicKey.export({ type: 'spki', format: 'pem' }));
    const fromPem = await JwtVerifier.fromConfig({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_FILE: file });
    const token = await new SignJWT({ sub: 'backoffice' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey.export({ format: 'jwk' }) as JWK);

    expect((await fromPem.verify(token)).subject).toBe('backoffice');
  });

  it('picks the key named by the token’s kid from a JWKS file', async () => {
    const other = await generateDevSigningKey();
    const file = await writeKeyFile('jwks.json', { keys: [other.publicJwk, key.publicJwk] });
    const fromJwks = await JwtVerifier.fromConfig({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_FILE: file });

    expect((await fromJwks.verify(await sign({}, { signer: other }))).subject).toBe('backoffice');
    expect((await fromJwks.verify(await sign({}))).subject).toBe('backoffice');
  });

  it('fetches the issuer’s keys from AUTH_JWKS_URL', async () => {
    const server: Server = createServer((_, response) => {
      response.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const remote = await JwtVerifier.fromConfig({
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      });

      expect((await remote.verify(await sign({ scope: 'pin:read' }))).scopes).toEqual(new Set(['pin:read']));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each<[string, (response: ServerResponse) => void]>([
    ['is not a JWKS (JWKSInvalid)', (response) => response.setHeader('content-type', 'application/json').end('{"keys":"none"}')],
    ['answers 500', (response) => response.writeHead(500).end()],
    ['does not answer in time (JWKSTimeout)', () => undefined],
  ])('answers KeySetUnavailableError when AUTH_JWKS_URL %s', async (_case, answer) => {
    const server: Server = createServer((_, response) => answer(response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const remote = new JwtVerifier(createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/jwks`), { timeoutDuration: 200 }), { issuer: ISSUER, audience: AUDIENCE });

      await expect(remote.verify(await sign({}))).rejects.toBeInstanceOf(KeySetUnavailableError);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers KeySetUnavailableError when nothing listens at AUTH_JWKS_URL', async () => {
    const remote = new JwtVerifier(createRemoteJWKSet(new URL('http://127.0.0.1:9/jwks')), { issuer: ISSUER, audience: AUDIENCE });

    await expect(remote.verify(await sign({}))).rejects.toBeInstanceOf(KeySetUnavailableError);
  });

  it.each<[string, () => unknown, RegExp]>([
    ['a private JWK', () => key.privateJwk, /must be a public key/],
    ['a JWKS with a private key', () => ({ keys: [key.publicJwk, key.privateJwk] }), /keys\.1: must be a public key/],
    [
      'a PEM private key',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      /a PEM file must hold a "PUBLIC KEY"/,
    ],
    ['text that is neither PEM nor JSON', () => 'hello', /neither PEM nor JSON/],
    ['a symmetric key', () => ({ kty: 'oct', k: 'c2VjcmV0' }), /kty/],
  ])('refuses a key file holding %s', async (_, content, message) => {
    const file = await writeKeyFile('refused.json', content());

    await expect(
      JwtVerifier.fromConfig({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_PUBLIC_KEY_FILE: file }),
    ).rejects.toThrow(message);
  });

  it.each([
    ['neither key source', {}],
    ['both key sources', { AUTH_JWKS_URL: 'https://issuer.example/jwks', AUTH_PUBLIC_KEY_FILE: 'key.pem' }],
  ])('refuses %s', async (_, sources) => {
    await expect(JwtVerifier.fromConfig({ AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, ...sources })).rejects.toThrow(
      'Set exactly one of AUTH_JWKS_URL and AUTH_PUBLIC_KEY_FILE',
    );
  });
});
