import { compactDecrypt, decodeProtectedHeader, errors, type CryptoKey, type ProtectedHeaderParameters } from 'jose';
import { z } from 'zod';
import { PIN_JWE_ALG, PIN_JWE_ENC, type PinPublicJwk } from './pin-key-ring';
import { CompactJweError, OpenedContentKeys, openRsaOaepA256Gcm, sealRsaOaepA256Gcm, SharedContentKeys } from './rsa-oaep-a256gcm';

const ACCEPTED_ENCS = [PIN_JWE_ENC, 'A256CBC-HS512'] as const;

/**
 * The secrets pinflow carries, each as a JWE over `{"<kind>": "<value>"}`. A value that does not
 * look like its kind is refused both ways, so a mix-up (a PAN sent as a PIN) never travels.
 */
export const SECRET_PATTERNS = {
  pin: /^[0-9]{4,12}$/,
  passcode: /^[0-9]{4,12}$/,
  pan: /^[0-9]{12,19}$/,
  oneTimeCode: /^[0-9A-Za-z]{4,12}$/,
  /** A clear ISO 9564 8-byte PIN block as 16 uppercase hex digits: it gives the PIN away to whoever has the PAN, so it travels as one. */
  pinBlock: /^[0-9A-F]{16}$/,
} as const;
export type SecretKind = keyof typeof SECRET_PATTERNS;

/**
 * A decrypted plaintext per kind: `{"<kind>": "<value>"}`. Extra members are allowed so fields such as
 * a nonce can be added without breaking decryption. Built once: a zod schema costs far more to build than to run.
 */
const PLAINTEXT_SCHEMAS = Object.fromEntries(
  Object.entries(SECRET_PATTERNS).map(([kind, pattern]) => [kind, z.object({ [kind]: z.string().regex(pattern) })]),
) as Record<SecretKind, z.ZodObject<Record<string, z.ZodString>>>;

export type PinDecryptionErrorCode =
  | 'UNKNOWN_KEY'
  | 'MALFORMED'
  | 'UNSUPPORTED_ALGORITHM'
  | 'DECRYPTION_FAILED'
  | 'INVALID_PLAINTEXT'
  | 'UNBOUND'
  | 'BOUND_TO_ANOTHER_CARD'
  | 'BOUND_TO_ANOTHER_COMMAND'
  | 'EXPIRED';

/** The codes of a secret that opens fine but was sealed for something else, or too long ago. */
export const BINDING_ERROR_CODES = ['UNBOUND', 'BOUND_TO_ANOTHER_CARD', 'BOUND_TO_ANOTHER_COMMAND', 'EXPIRED'] as const satisfies readonly PinDecryptionErrorCode[];

/**
 * What a secret inside a command is sealed for: that card, that command, until `expiresAt`. Carried in
 * the JWE's protected header, which the content encryption authenticates: changing it breaks the JWE.
 */
export interface SecretBinding {
  cardId: string;
  commandId: string;
}

// Header parameter names, private to pinflow (RFC 7516 §4.3); `exp` as in JWT, seconds since the epoch.
const CARD = 'pinflow_card';
const COMMAND = 'pinflow_command';

// Fixed texts: a message built from the input could carry the PIN or the JWE into a log line.
const MESSAGES: Record<PinDecryptionErrorCode, string> = {
  UNKNOWN_KEY: 'The encrypted PIN names no key held in the PIN key ring',
  MALFORMED: 'The encrypted PIN is not a well-formed compact JWE',
  UNSUPPORTED_ALGORITHM: `The encrypted PIN must use alg ${PIN_JWE_ALG}, enc ${ACCEPTED_ENCS.join(' or ')} and no compression`,
  DECRYPTION_FAILED: 'The encrypted PIN could not be decrypted: wrong key or tampered JWE',
  INVALID_PLAINTEXT: 'The decrypted payload is not a JSON object holding a well-formed value of the expected kind',
  UNBOUND: 'The encrypted secret is not bound to a card, a command and an expiry',
  BOUND_TO_ANOTHER_CARD: 'The encrypted secret was sealed for another card',
  BOUND_TO_ANOTHER_COMMAND: 'The encrypted secret was sealed for another command',
  EXPIRED: 'The encrypted secret has expired',
};

/** Whoever a secret is sealed to: a ring's current key (fixed or reloading), or a public PIN JWK. */
export type SecretRecipient = { readonly currentPublicJwk: PinPublicJwk } | PinPublicJwk;

/** Whatever holds the private keys by kid: a ring, or a ring file that may have to read its file first. */
export interface DecryptionKeys {
  decryptionKey(kid: string): CryptoKey | undefined | Promise<CryptoKey | undefined>;
}

/** Why an encrypted PIN was refused. Carries no cause, since causes can quote the input. */
export class PinDecryptionError extends Error {
  override readonly name = 'PinDecryptionError';

  constructor(readonly code: PinDecryptionErrorCode) {
    super(MESSAGES[code]);
  }
}

/**
 * Encrypts a secret as a compact JWE to `recipient`: the current key of a ring, or a public PIN JWK
 * (for instance one served by intake's public key endpoint). With `binding`, the JWE opens only for
 * that card and command until `expiresAt` (see {@link decryptSecret}).
 */
export async function encryptSecret(
  kind: SecretKind,
  value: string,
  recipient: SecretRecipient,
  binding?: SecretBinding & { expiresAt: Date },
): Promise<string> {
  return seal(kind, value, recipient, binding);
}

/**
 * The secrets of commands share a CEK per worker key, and a worker keeps the CEKs it unwrapped, so
 * that most commands cost it no RSA operation (see SharedContentKeys for what that changes). 4,096
 * seals or 10 s per CEK: at the benchmark's ~350 changes/s about one RSA operation per 3,500
 * commands. A worker keeps a CEK for a minute, long enough for the commands sealed under it to
 * arrive even behind a backlog, and up to 64 of them: every intake replica's, across key rotations.
 */
const COMMAND_CONTENT_KEYS = new SharedContentKeys(4_096, 10_000);
const OPENED_COMMAND_CONTENT_KEYS = new OpenedContentKeys(64, 60_000);

function seal(kind: SecretKind, value: string, recipient: SecretRecipient, binding?: SecretBinding & { expiresAt: Date }, shared?: SharedContentKeys): string {
  // A value that decryptSecret would refuse must not travel at all.
  if (!SECRET_PATTERNS[kind].test(value)) throw new RangeError(`A ${kind} must match ${SECRET_PATTERNS[kind]} to be encrypted`);
  const key = 'currentPublicJwk' in recipient ? recipient.currentPublicJwk : recipient;
  const bound = binding && { [CARD]: binding.cardId, [COMMAND]: binding.commandId, exp: Math.floor(binding.expiresAt.getTime() / 1000) };
  const plaintext = Buffer.from(JSON.stringify({ [kind]: value }));
  try {
    return sealRsaOaepA256Gcm({ alg: PIN_JWE_ALG, enc: PIN_JWE_ENC, kid: key.kid, ...bound }, plaintext, key, shared);
  } finally {
    plaintext.fill(0);
  }
}

/** Seals a secret into a command as intake does: to `recipient` (the vendor's command keys), for that card and command only, for `ttlSeconds`. */
export async function sealForCommand(kind: SecretKind, value: string, recipient: SecretRecipient, command: SecretBinding, ttlSeconds = 3_600): Promise<string> {
  const binding = { cardId: command.cardId, commandId: command.commandId, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
  return seal(kind, value, recipient, binding, COMMAND_CONTENT_KEYS);
}

export function encryptPin(pin: string, recipient: SecretRecipient, binding?: SecretBinding & { expiresAt: Date }): Promise<string> {
  return encryptSecret('pin', pin, recipient, binding);
}

function protectedHeader(jwe: string): ProtectedHeaderParameters {
  if (jwe.split('.').length !== 5) throw new PinDecryptionError('MALFORMED');
  try {
    return decodeProtectedHeader(jwe);
  } catch {
    throw new PinDecryptionError('MALFORMED');
  }
}

function decryptionFailure(error: unknown): unknown {
  if (error instanceof errors.JWEDecryptionFailed) return new PinDecryptionError('DECRYPTION_FAILED');
  if (error instanceof errors.JOSENotSupported) return new PinDecryptionError('UNSUPPORTED_ALGORITHM');
  if (error instanceof errors.JOSEError) return new PinDecryptionError('MALFORMED');
  return error;
}

function readPlaintext(kind: SecretKind, plaintext: Uint8Array): string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new PinDecryptionError('INVALID_PLAINTEXT');
  }
  const parsed = PLAINTEXT_SCHEMAS[kind].safeParse(value);
  if (!parsed.success) throw new PinDecryptionError('INVALID_PLAINTEXT');
  return parsed.data[kind] as string;
}

export function decryptPin(jwe: string, keys: DecryptionKeys, binding?: SecretBinding): Promise<string> {
  return decryptSecret('pin', jwe, keys, binding);
}

// Checked before the RSA operation, which is the expensive part; a forged header then fails decryption.
function checkBinding(header: ProtectedHeaderParameters, binding: SecretBinding, now: number): void {
  const [card, command, exp] = [header[CARD], header[COMMAND], header.exp];
  if (typeof card !== 'string' || typeof command !== 'string' || typeof exp !== 'number') throw new PinDecryptionError('UNBOUND');
  if (card !== binding.cardId) throw new PinDecryptionError('BOUND_TO_ANOTHER_CARD');
  if (command !== binding.commandId) throw new PinDecryptionError('BOUND_TO_ANOTHER_COMMAND');
  if (exp * 1000 <= now) throw new PinDecryptionError('EXPIRED');
}

/**
 * Decrypts a secret's JWE with the key named by its `kid`; throws {@link PinDecryptionError}. With
 * `binding` (a command's card and id), the JWE must have been sealed for exactly those and not expired.
 */
export async function decryptSecret(kind: SecretKind, jwe: string, keys: DecryptionKeys, binding?: SecretBinding, now = Date.now()): Promise<string> {
  const header = protectedHeader(jwe);
  if (header.alg !== PIN_JWE_ALG || !ACCEPTED_ENCS.some((enc) => enc === header.enc)) {
    throw new PinDecryptionError('UNSUPPORTED_ALGORITHM');
  }
  if (binding) checkBinding(header, binding, now);
  const key = header.kid === undefined ? undefined : await keys.decryptionKey(header.kid);
  if (!key) throw new PinDecryptionError('UNKNOWN_KEY');
  // A command's secrets were sealed under CEKs their worker may have unwrapped already.
  const plaintext = header.enc === PIN_JWE_ENC ? openSealedByPinflow(jwe, header, key, binding && OPENED_COMMAND_CONTENT_KEYS) : await openWithJose(jwe, key);
  try {
    return readPlaintext(kind, plaintext);
  } finally {
    plaintext.fill(0);
  }
}

/** What pinflow seals, and most clients send: see rsa-oaep-a256gcm.ts for why not jose. */
function openSealedByPinflow(jwe: string, header: ProtectedHeaderParameters, key: CryptoKey, opened?: OpenedContentKeys): Uint8Array {
  // Neither is one pinflow understands; jose refuses both for this pair too.
  if (header.zip !== undefined || header.crit !== undefined) throw new PinDecryptionError('UNSUPPORTED_ALGORITHM');
  try {
    return openRsaOaepA256Gcm(jwe, key, opened);
  } catch (error) {
    throw error instanceof CompactJweError ? new PinDecryptionError(error.code) : error;
  }
}

/** The other content encryption clients may choose (A256CBC-HS512). */
async function openWithJose(jwe: string, key: CryptoKey): Promise<Uint8Array> {
  const { plaintext } = await compactDecrypt(jwe, key, {
    keyManagementAlgorithms: [PIN_JWE_ALG],
    contentEncryptionAlgorithms: [...ACCEPTED_ENCS],
    maxDecompressedLength: 0,
  }).catch((error: unknown) => {
    throw decryptionFailure(error);
  });
  return plaintext;
}
