import { ConfigError } from '@pinflow/config';
import { CompactEncrypt, importJWK, type CryptoKey } from 'jose';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

// D1's convention for sensitive data: compact JWE, ECDH-ES key agreement on P-256, A256GCM content
// encryption, and the recipient's key named by `kid`.
export const D1_JWE_ALG = 'ECDH-ES';
export const D1_JWE_ENC = 'A256GCM';

const coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url P-256 coordinate');

/** The CMS's public key as exchanged at onboarding; a private key has no business in pinflow. */
const cmsPublicJwk = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: coordinate,
  y: coordinate,
  kid: z.string().min(1).max(256),
  alg: z.literal(D1_JWE_ALG).optional(),
  use: z.literal('enc').optional(),
  d: z.never({ error: "a private key part: give the CMS's public key only" }).optional(),
});

/** The key the CMS decrypts PIN blocks with, as pinflow encrypts to it. */
export class CmsEncryptionKey {
  constructor(
    readonly kid: string,
    private readonly key: CryptoKey,
  ) {}

  /** A compact JWE of `plaintext` to the CMS, as D1 encrypts sensitive data. */
  encrypt(plaintext: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg: D1_JWE_ALG, enc: D1_JWE_ENC, kid: this.kid }).encrypt(this.key);
  }
}

/**
 * Reads the CMS's public JWK from `file`, refusing to start (ConfigError) on anything but a P-256
 * public key with a kid. Messages name the rule, never the file's content.
 */
export async function loadCmsEncryptionKey(file: string): Promise<CmsEncryptionKey> {
  const refuse = (...problems: string[]) => new ConfigError('worker-thales-d1', problems.map((problem) => `THALES_D1_CMS_PUBLIC_KEY_FILE (${file}): ${problem}`));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refuse('is not JSON');
  }
  const parsed = cmsPublicJwk.safeParse(json);
  if (!parsed.success) throw refuse(...parsed.error.issues.map((issue) => `${['jwk', ...issue.path].join('.')}: ${issue.message}`));
  const { kty, crv, x, y, kid } = parsed.data;
  try {
    return new CmsEncryptionKey(kid, (await importJWK({ kty, crv, x, y }, D1_JWE_ALG)) as CryptoKey);
  } catch {
    throw refuse('jwk: not a point on P-256');
  }
}
