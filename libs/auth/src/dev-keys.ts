import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

// Local development only: pinflow stands in for a real token issuer, and services verify these
// tokens through AUTH_PUBLIC_KEY_FILE pointing at the public half.

export const DEV_ISSUER = 'pinflow-dev';
export const DEV_AUDIENCE = 'pinflow';
export const DEV_SIGNING_KEY_FILE = '.pinflow/dev-signing-key.json';

const DEV_ALG = 'ES256';

export interface DevSigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateDevSigningKey(): Promise<DevSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(DEV_ALG, { extractable: true });
  const kid = `dev-${randomBytes(6).toString('hex')}`;
  const members = { kid, alg: DEV_ALG, use: 'sig' };
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), ...members },
    publicJwk: { ...(await exportJWK(publicKey)), ...members },
  };
}

export interface MintTokenOptions {
  privateKey: JWK | CryptoKey;
  kid: string;
  issuer: string;
  audience: string;
  subject: string;
  /** The caller's tenant, in the `tenant` claim. */
  tenant?: string;
  scopes: readonly string[];
  /** A time span from now, such as '15m' or '1h' ('-1h' mints an already expired token). */
  expiresIn: string;
}

/** Signs an ES256 access token with the scopes in a space-separated `scope` claim (and the tenant, if any, in `tenant`). */
export function mintToken(options: MintTokenOptions): Promise<string> {
  return new SignJWT({ scope: options.scopes.join(' '), ...(options.tenant === undefined ? {} : { tenant: options.tenant }) })
    .setProtectedHeader({ alg: DEV_ALG, kid: options.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn)
    .setJti(randomUUID())
    .sign(options.privateKey);
}

const privateDevJwk = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  kid: z.string().min(1),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});

/** Where the public half of a dev signing key lives: `key.json` → `key.pub.json`. */
export function devPublicKeyFile(privateKeyFile: string): string {
  return privateKeyFile.replace(/(\.json)?$/, '.pub.json');
}

function jwkFileText(jwk: JWK): string {
  return `${JSON.stringify(jwk, null, 2)}\n`;
}

async function readDevSigningKey(privateKeyFile: string): Promise<DevSigningKey | undefined> {
  let text: string;
  try {
    text = await readFile(privateKeyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Dev signing key ${privateKeyFile} is not valid JSON; delete it to have a new one created`);
  }
  const parsed = privateDevJwk.safeParse(value);
  if (!parsed.success) {
    throw new Error(`Dev signing key ${privateKeyFile} is not a private ES256 JWK with a kid; delete it to have a new one created`);
  }
  const { kty, crv, kid, x, y } = parsed.data;
  return { kid, privateJwk: parsed.data, publicJwk: { kty, crv, kid, x, y, alg: DEV_ALG, use: 'sig' } };
}

/**
 * Reads the dev signing key from `privateKeyFile`, generating it on first use, and (re)writes its
 * public half next to it so that the file services verify with always matches the signing key.
 */
export async function loadOrCreateDevSigningKey(
  privateKeyFile: string,
): Promise<{ key: DevSigningKey; publicKeyFile: string; created: boolean }> {
  const existing = await readDevSigningKey(privateKeyFile);
  const key = existing ?? (await generateDevSigningKey());
  if (!existing) {
    await mkdir(path.dirname(privateKeyFile), { recursive: true });
    await writeFile(privateKeyFile, jwkFileText(key.privateJwk), { mode: 0o600 });
  }
  const publicKeyFile = devPublicKeyFile(privateKeyFile);
  await writeFile(publicKeyFile, jwkFileText(key.publicJwk));
  return { key, publicKeyFile, created: !existing };
}
