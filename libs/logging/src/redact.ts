export const REDACTED = '[REDACTED]';

/**
 * Field names (compared without case, `_` or `-`) whose value is a secret wherever it sits: a PIN,
 * passcode, PIN block, PAN, one-time code (Vault's `code`), credential, or a private JWK member.
 */
const SECRET_NAMES = new Set([
  'pan', 'encryptedpan', 'pincode', 'pinblock', 'encryptedpinblock', 'code', 'onetimecode', 'encryptedcode', 'otp',
  'signature', 'authorization', 'cookie', 'setcookie', 'privatejwk', 'privatekey', 'clientassertion',
]);
/** Suffixes that make any field a secret: newPin, encryptedPin, currentPasscode, clientSecret, client_secret, access_token. */
const SECRET_SUFFIXES = ['pin', 'passcode', 'password', 'secret', 'token'];
/**
 * Parts that make any field a secret wherever they sit in its name: `pinBlockFormat`, `pinBlockType`,
 * `clearPinBlock`. A name that says "PIN block" is redacted even when its value is only a format name, so
 * that no field named like a PIN block can carry one into a log; log a block's format as `blockFormat`.
 */
const SECRET_PARTS = ['pinblock'];
/** The private members of a JWK (RFC 7518 §6.3.2 for RSA, §6.2.2 for EC, §6.4 for symmetric keys), compared as written. */
const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

function isSecretName(name: string): boolean {
  if (PRIVATE_JWK_MEMBERS.has(name)) return true;
  const normalised = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAMES.has(normalised) || SECRET_SUFFIXES.some((suffix) => normalised.endsWith(suffix)) || SECRET_PARTS.some((part) => normalised.includes(part));
}

/** What pino's error serializer makes of an Error: its `code` (ECONNREFUSED, P2028) names its kind, not a one-time code. */
function isSerializedError(object: Record<string, unknown>): boolean {
  return typeof object.type === 'string' && typeof object.message === 'string' && typeof object.stack === 'string';
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  const keepCode = isSerializedError(object);
  return Object.fromEntries(
    Object.entries(object).map(([name, field]) => [name, isSecretName(name) && !(keepCode && name === 'code') ? REDACTED : redactValue(field)]),
  );
}

/**
 * A log line (pino's JSON) with every secret field's value replaced by {@link REDACTED}, at any depth.
 *
 * Hand-written because pino's `redact` takes only fixed paths (a `*` stands for exactly one level;
 * there is no recursive wildcard), and the objects pinflow logs (commands, vendor answers, errors
 * with what they carry) nest secrets at depths no list of paths keeps up with. It works on the
 * finished line rather than on the logged object so that nothing escapes it: not a child logger's
 * bindings (pino never passes those through `formatters.log`), nor what a serializer produced.
 */
export function redactLine(line: string): string {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // pino writes one JSON object a line; anything else is not ours to judge, and is dropped rather than risked.
    return JSON.stringify({ msg: 'unparsable log line withheld' }) + '\n';
  }
  return JSON.stringify(redactValue(parsed)) + '\n';
}
