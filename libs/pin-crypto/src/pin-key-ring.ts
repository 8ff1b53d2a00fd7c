import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { z } from 'zod';

/** Key management algorithm of every PIN JWE. */
export const PIN_JWE_ALG = 'RSA-OAEP-256';
/** Content encryption pinflow uses; decryption also accepts A256CBC-HS512 from clients that prefer it. */
export const PIN_JWE_ENC = 'A256GCM';

const MIN_MODULUS_BITS = 2048;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a base64url string');

const privatePinJwk = z.object({
  kty: z.literal('RSA'),
  kid: z.string().min(1).max(128),
  use: z.literal('enc').optional(),
  alg: z.literal(PIN_JWE_ALG).optional(),
  n: base64url.refine(
    (n) => Buffer.from(n, 'base64url').length * 8 >= MIN_MODULUS_BITS,
    `RSA modulus must be at least ${MIN_MODULUS_BITS} bits`,
  ),
  e: base64url,
  d: base64url,
  p: base64url,
  q: base64url,
  dp: base64url,
  dq: base64url,
  qi: base64url,
  /** Retires the key: it decrypts until then (what was sealed to it may still be in flight), and never after. */
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

const privatePinJwks = z.object({
  keys: z
    .array(privatePinJwk)
    .min(1)
    .refine((keys) => new Set(keys.map((key) => key.kid)).size === keys.length, 'every key needs a distinct kid')
    .refine((keys) => keys[0]?.notAfter === undefined, 'the first key is the current one and cannot be retired: put its successor first'),
});

export type PrivatePinJwk = z.infer<typeof privatePinJwk>;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const publicPinJwk = z
  .looseObject(privatePinJwk.pick({ kty: true, kid: true, use: true, alg: true, n: true, e: true }).shape)
  // A service meant to hold only public halves must never be handed private ones by mistake.
  .refine((jwk) => PRIVATE_MEMBERS.every((member) => !(member in jwk)), 'must be a public key: private members are not allowed here');

const publicPinJwks = z.object({
  keys: z
    .array(publicPinJwk)
    .min(1)
    .refine((keys) => new Set(keys.map((key) => key.kid)).size === keys.length, 'every key needs a distinct kid'),
});

/** The public half of a PIN key, as served to clients that encrypt PINs themselves. */
export interface PinPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  use: 'enc';
  alg: typeof PIN_JWE_ALG;
}

interface PinKey {
  privateJwk: PrivatePinJwk;
  privateKey: CryptoKey;
  publicJwk: PinPublicJwk;
  /** Epoch ms from which the key no longer decrypts; absent for a key in service. */
  notAfter?: number;
}

function isRetired(key: PinKey, now = Date.now()): boolean {
  return key.notAfter !== undefined && key.notAfter <= now;
}

// Importing does not check that the RSA members belong together; a damaged key would otherwise load
// fine and then fail every PIN it is asked to decrypt.
async function decryptsItsOwnCiphertext(publicJwk: PinPublicJwk, privateKey: CryptoKey): Promise<boolean> {
  const probe = new Uint8Array([1]);
  const jwe = await new CompactEncrypt(probe).setProtectedHeader({ alg: PIN_JWE_ALG, enc: PIN_JWE_ENC }).encrypt(publicJwk);
  return compactDecrypt(jwe, privateKey).then(
    () => true,
    () => false,
  );
}

function parseJwksText(json: string, source: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    // JSON.parse's own message quotes the text around the error, which would be key material.
    throw new Error(`Invalid ${source}: not valid JSON`);
  }
}

function describeIssues(error: z.ZodError): string {
  // Only paths and zod's generic messages: neither ever contains the offending value, so no key
  // material reaches the message.
  return error.issues.map((issue) => `${['jwks', ...issue.path].join('.')}: ${issue.message}`).join('; ');
}

/**
 * pinflow's RSA private keys for PIN JWEs. The first key of the JWKS is the current one, used to
 * encrypt; the others only decrypt, so a rotation prepends the new key and retires the old ones with
 * a `notAfter` no earlier than any message encrypted to them can still be in flight. The retirement
 * is in the file, so every service holding the ring, restarted or not, keeps a key exactly as long.
 */
export class PinKeyRing {
  // Private fields keep key material out of JSON.stringify and util.inspect of a ring.
  readonly #keys: ReadonlyMap<string, PinKey>;

  private constructor(
    keys: PinKey[],
    /** kid of the key new PINs are encrypted to. */
    readonly currentKid: string,
  ) {
    this.#keys = new Map(keys.map((key) => [key.publicJwk.kid, key]));
  }

  /** Validates and imports a JWKS of private RSA keys; `source` names it in error messages. */
  static async fromJwks(value: unknown, source = 'PIN key ring'): Promise<PinKeyRing> {
    const parsed = privatePinJwks.safeParse(value);
    if (!parsed.success) throw new Error(`Invalid ${source}: ${describeIssues(parsed.error)}`);
    const keys = await Promise.all(
      parsed.data.keys.map(async (privateJwk): Promise<PinKey> => {
        const { notAfter, ...jwk } = privateJwk;
        const privateKey = (await importJWK(jwk, PIN_JWE_ALG, { extractable: false })) as CryptoKey;
        const { kty, n, e, kid } = privateJwk;
        const publicJwk: PinPublicJwk = { kty, n, e, kid, use: 'enc', alg: PIN_JWE_ALG };
        if (!(await decryptsItsOwnCiphertext(publicJwk, privateKey))) {
          throw new Error(`Invalid ${source}: key ${kid} does not decrypt what its public half encrypts`);
        }
        return { privateJwk, privateKey, publicJwk, ...(notAfter === undefined ? {} : { notAfter: Date.parse(notAfter) }) };
      }),
    );
    return new PinKeyRing(keys, parsed.data.keys[0].kid);
  }

  /** Parses a JWKS held in a string, such as an environment variable named by `source`. */
  static async fromJson(json: string, source = 'PIN key ring'): Promise<PinKeyRing> {
    return PinKeyRing.fromJwks(parseJwksText(json, source), source);
  }

  static async fromFile(file: string): Promise<PinKeyRing> {
    return PinKeyRing.fromJson(await readFile(file, 'utf8'), `PIN key ring file ${file}`);
  }

  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  get currentPublicJwk(): PinPublicJwk {
    return this.#keys.get(this.currentKid)!.publicJwk;
  }

  /** Public parts of the ring's keys that are not retired, current first. */
  publicJwks(): { keys: PinPublicJwk[] } {
    const now = Date.now();
    return { keys: [...this.#keys.values()].filter((key) => !isRetired(key, now)).map((key) => key.publicJwk) };
  }

  /**
   * The ring a rotation writes: `successor`'s keys first (the new current one), then this ring's
   * keys that are not yet retired, each retired by `notAfter` at the latest.
   */
  async withSuccessor(successor: PinKeyRing, notAfter: Date): Promise<PinKeyRing> {
    const retiring = [...this.#keys.values()]
      .filter((key) => !isRetired(key))
      .map((key) => ({ ...key.privateJwk, notAfter: new Date(Math.min(key.notAfter ?? Infinity, notAfter.getTime())).toISOString() }));
    return PinKeyRing.fromJwks({ keys: [...successor.toPrivateJwks().keys, ...retiring] }, 'rotated PIN key ring');
  }

  /** The ring as a private JWKS that {@link PinKeyRing.fromJwks} reads back. Secret: never log it. */
  toPrivateJwks(): { keys: PrivatePinJwk[] } {
    return { keys: [...this.#keys.values()].map((key) => key.privateJwk) };
  }

  /** The private key for `kid`, for {@link decryptPin}; none once it is retired. */
  decryptionKey(kid: string): CryptoKey | undefined {
    const key = this.#keys.get(kid);
    return key && !isRetired(key) ? key.privateKey : undefined;
  }
}

/**
 * The public halves of a key ring held elsewhere: intake holds each vendor's command keys this way,
 * so it can seal secrets to a worker without being able to open them. The first key is current.
 */
export class PinPublicKeyRing {
  private constructor(readonly keys: readonly PinPublicJwk[]) {}

  static fromJwks(value: unknown, source = 'public PIN key ring'): PinPublicKeyRing {
    const parsed = publicPinJwks.safeParse(value);
    if (!parsed.success) throw new Error(`Invalid ${source}: ${describeIssues(parsed.error)}`);
    return new PinPublicKeyRing(parsed.data.keys.map(({ kty, n, e, kid }) => ({ kty, n, e, kid, use: 'enc', alg: PIN_JWE_ALG })));
  }

  static fromJson(json: string, source = 'public PIN key ring'): PinPublicKeyRing {
    return PinPublicKeyRing.fromJwks(parseJwksText(json, source), source);
  }

  get currentKid(): string {
    return this.keys[0].kid;
  }

  get currentPublicJwk(): PinPublicJwk {
    return this.keys[0];
  }

  publicJwks(): { keys: PinPublicJwk[] } {
    return { keys: [...this.keys] };
  }
}

function newKid(): string {
  // A date in the kid tells operators at a glance how old a key is when deciding to retire it.
  return `pin-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

/** A ring with one freshly generated key, for development, tests and embedded defaults. */
export async function generatePinKeyRing(options: { modulusLength?: 2048 | 3072 } = {}): Promise<PinKeyRing> {
  const { privateKey } = await generateKeyPair(PIN_JWE_ALG, { modulusLength: options.modulusLength ?? 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return PinKeyRing.fromJwks({ keys: [{ ...jwk, kid: newKid(), use: 'enc', alg: PIN_JWE_ALG }] }, 'generated PIN key ring');
}

/** Writes the ring's private JWKS readable by its owner only, creating the directory if needed. */
export async function writePinKeyRingFile(file: string, ring: PinKeyRing): Promise<void> {
  await writeJwksFile(file, ring.toPrivateJwks(), 0o600);
}

/** Writes the public halves of a ring, for the service that seals secrets to it. */
export async function writePublicKeyRingFile(file: string, ring: PinKeyRing | PinPublicKeyRing): Promise<void> {
  await writeJwksFile(file, ring.publicJwks(), 0o644);
}

// Written beside and renamed over: a service reloading the file never reads half of it.
async function writeJwksFile(file: string, jwks: object, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(partial, `${JSON.stringify(jwks, null, 2)}\n`, { mode });
  await rename(partial, file);
}
