import { ConfigError } from '@pinflow/config';
import { compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCmsEncryptionKey } from './cms-key';

describe('the CMS’s encryption key (THALES_D1_CMS_PUBLIC_KEY_FILE)', () => {
  let dir: string;
  let publicJwk: JWK;
  let privateJwk: JWK;
  let privateKey: CryptoKey;

  const fileWith = (content: unknown, name = `${Math.random()}.json`) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  /** The ConfigError loading `file` fails with. */
  async function refusal(file: string): Promise<ConfigError> {
    const error = await loadCmsEncryptionKey(file).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cms-key-spec-'));
    const pair = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'cms-key-1', alg: 'ECDH-ES', use: 'enc' };
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'cms-key-1' };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encrypts to the CMS as D1 does: a compact ECDH-ES/A256GCM JWE naming the CMS’s kid', async () => {
    const key = await loadCmsEncryptionKey(fileWith(publicJwk));

    const jwe = await key.encrypt('{"format":"ISO0"}');

    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'cms-key-1', epk: expect.objectContaining({ kty: 'EC', crv: 'P-256' }) });
    expect(new TextDecoder().decode((await compactDecrypt(jwe, privateKey)).plaintext)).toBe('{"format":"ISO0"}');
  });

  it('refuses a private key, naming the variable and never quoting the key', async () => {
    const error = await refusal(fileWith(privateJwk));

    expect(error.message).toContain('worker-thales-d1 refuses to start');
    expect(error.message).toMatch(/THALES_D1_CMS_PUBLIC_KEY_FILE .*: jwk\.d: a private key part: give the CMS's public key only/);
    expect(error.message).not.toContain(privateJwk.d);
    expect(error.message).not.toContain(privateJwk.x);
  });

  it.each([
    ['a key without kid', () => ({ ...publicJwk, kid: undefined }), /jwk\.kid: /],
    ['a key on another curve', () => ({ ...publicJwk, crv: 'P-384' }), /jwk\.crv: /],
    ['an RSA key', () => ({ kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'rsa' }), /jwk\.kty: /],
    ['a key for another algorithm', () => ({ ...publicJwk, alg: 'RSA-OAEP-256' }), /jwk\.alg: /],
    ['a point off the curve', () => ({ ...publicJwk, y: publicJwk.x }), /not a point on P-256/],
    ['a file that is not JSON', () => 'kty=EC', /is not JSON/],
  ])('refuses %s', async (_case, content, problem) => {
    expect((await refusal(fileWith(content()))).message).toMatch(problem);
  });

  it('refuses a file it cannot read, saying why', async () => {
    expect((await refusal(path.join(dir, 'missing.json'))).message).toMatch(/THALES_D1_CMS_PUBLIC_KEY_FILE \(.*missing\.json\): cannot be read \(ENOENT\)/);
  });
});
