import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { devPublicKeyFile, loadOrCreateDevSigningKey, mintToken } from './dev-keys';
import { JwtVerifier } from './jwt-verifier';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dev-keys-'));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe('loadOrCreateDevSigningKey', () => {
  it('creates the private key (owner-only) and its public half on first use', async () => {
    const privateKeyFile = path.join(dir, '.pinflow', 'dev-signing-key.json');

    const { key, publicKeyFile, created } = await loadOrCreateDevSigningKey(privateKeyFile);

    expect(created).toBe(true);
    expect(publicKeyFile).toBe(path.join(dir, '.pinflow', 'dev-signing-key.pub.json'));
    expect((await stat(privateKeyFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(publicKeyFile, 'utf8'))).toEqual(key.publicJwk);
    expect(key.publicJwk).not.toHaveProperty('d');
  });

  it('reuses the existing key afterwards', async () => {
    const file = path.join(dir, 'dev-signing-key.json');
    const first = await loadOrCreateDevSigningKey(file);

    const second = await loadOrCreateDevSigningKey(file);

    expect(second.created).toBe(false);
    expect(second.key.kid).toBe(first.key.kid);
  });

  it('restores a deleted public half from the private key', async () => {
    const file = path.join(dir, 'dev-signing-key.json');
    const { publicKeyFile, key } = await loadOrCreateDevSigningKey(file);
    await rm(publicKeyFile);

    await loadOrCreateDevSigningKey(file);

    expect(JSON.parse(await readFile(publicKeyFile, 'utf8'))).toEqual(key.publicJwk);
  });

  it('mints tokens that services configured with the public half accept', async () => {
    const { key, publicKeyFile } = await loadOrCreateDevSigningKey(path.join(dir, 'dev-signing-key.json'));
    const verifier = await JwtVerifier.fromConfig({ AUTH_ISSUER: 'pinflow-dev', AUTH_AUDIENCE: 'pinflow', AUTH_PUBLIC_KEY_FILE: publicKeyFile });
    const token = await mintToken({
      privateKey: key.privateJwk,
      kid: key.kid,
      issuer: 'pinflow-dev',
      audience: 'pinflow',
      subject: 'backoffice',
      scopes: ['pin:write', 'pin:read'],
      expiresIn: '15m',
    });

    expect(await verifier.verify(token)).toEqual({ subject: 'backoffice', scopes: new Set(['pin:write', 'pin:read']) });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: key.kid });
    const { iat, exp } = decodeJwt(token);
    expect(exp! - iat!).toBe(15 * 60);
  });

  it('refuses a damaged key file without quoting it', async () => {
    const file = path.join(dir, 'dev-signing-key.json');
    await writeFile(file, '{"kty":"EC","d":"c2VjcmV0LWtleS1tYXRlcmlhbA"');

    const loading = loadOrCreateDevSigningKey(file);

    await expect(loading).rejects.toThrow(`Dev signing key ${file} is not valid JSON; delete it to have a new one created`);
  });

  it('refuses a key file that holds something other than a private ES256 JWK', async () => {
    const file = path.join(dir, 'dev-signing-key.json');
    await writeFile(file, JSON.stringify({ kty: 'RSA', kid: 'x', n: 'AQAB', e: 'AQAB' }));

    await expect(loadOrCreateDevSigningKey(file)).rejects.toThrow('is not a private ES256 JWK with a kid');
  });
});

describe('devPublicKeyFile', () => {
  it.each([
    ['.pinflow/dev-signing-key.json', '.pinflow/dev-signing-key.pub.json'],
    ['/etc/pinflow/signing-key', '/etc/pinflow/signing-key.pub.json'],
  ])('places the public half of %s at %s', (privateKeyFile, publicKeyFile) => {
    expect(devPublicKeyFile(privateKeyFile)).toBe(publicKeyFile);
  });
});
