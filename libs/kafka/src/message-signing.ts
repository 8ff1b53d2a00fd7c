import { ConfigError, loadJsonFile, positiveInt, removedSetting } from '@pinflow/config';
import { commandTopic, EVENT_TYPES, EVENTS_TOPIC, type Vendor, VENDORS } from '@pinflow/contracts';
import type { Logger } from '@pinflow/logging';
import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Who may publish what on pinflow's own topics, and the proof that they did: every command and event
 * carries, in this header, a JWS whose protected header names the signing key (`kid`) and the topic
 * (`pinflow_topic`), so a message replayed onto another topic does not verify there. Two forms:
 *
 * - One message: a detached JWS (RFC 7515 appendix F, unencoded payload per RFC 7797) over the record
 *   value's exact bytes, `<protected>..<signature>`; the signing input is `<protected>.` followed by the
 *   value bytes. jose's flattenedVerify accepts it with `crit: { b64: true }`.
 * - The messages of one produce request (a batch): one signature for all of them. The JWS payload is
 *   the root of a SHA-256 Merkle tree over their values (RFC 6962's leaf and node hashes; a level's
 *   last node without a sibling goes up unchanged) and the protected header also says how many leaves
 *   it has (`pinflow_batch`); each message carries that JWS and its own inclusion proof,
 *   `<protected>.<root>.<signature>~<leaf index>~<sibling>~…` (siblings base64url, from the leaf up).
 *   A consumer checks each message's proof (two hashes per level) and verifies each batch's signature
 *   once: Ed25519 costs ~100 µs a verification, and a message was verified by three services.
 *
 * Hand-rolled on node:crypto rather than jose's FlattenedSign/flattenedVerify: the protected
 * header is the same for every message of a topic, so it is encoded (and, verifying, parsed) once,
 * and a message costs at most one Ed25519 operation — jose re-encodes and re-parses it per message, about
 * twice the cost on this hot path (see the README's trust section for the figures).
 */
export const MESSAGE_SIGNATURE_HEADER = 'pinflow-signature';

/** The services that sign messages, as their key sets in MESSAGE_SIGNERS_FILE are named. */
export const INTAKE_SIGNER = 'intake';
export function workerSigner(vendor: Vendor): string {
  return `worker-${vendor}`;
}
export const MESSAGE_SIGNERS: readonly string[] = [INTAKE_SIGNER, ...VENDORS.map(workerSigner)];

/** Events only intake publishes: its answers to requests. Every other event is a worker's outcome for its own vendor. */
const INTAKE_EVENT_TYPES: ReadonlySet<string> = new Set([EVENT_TYPES.accepted, EVENT_TYPES.rejected]);

/** Derived from the vendor registry like the broker's ACLs: only intake writes commands; events are intake's or a worker's. */
const SIGNERS_BY_TOPIC = new Map<string, ReadonlySet<string>>([
  ...VENDORS.map((vendor) => [commandTopic(vendor), new Set([INTAKE_SIGNER])] as const),
  [EVENTS_TOPIC, new Set(MESSAGE_SIGNERS)],
]);

/** The services that may sign messages of `topic`; undefined for a topic pinflow does not sign (a vendor's, a requester's). */
export function signersOf(topic: string): ReadonlySet<string> | undefined {
  return SIGNERS_BY_TOPIC.get(topic);
}

/**
 * The one service that may have published this (parsed, not yet validated) message: intake for
 * commands and its answers, the vendor's worker for a vendor's outcome. So no worker speaks for
 * another vendor, and no event under an id its rightful publisher would use can be published first
 * by anyone else.
 */
export function rightfulSigner(topic: string, message: unknown): string | undefined {
  if (topic !== EVENTS_TOPIC) return signersOf(topic)?.has(INTAKE_SIGNER) ? INTAKE_SIGNER : undefined;
  const event = message as { type?: unknown; data?: { vendor?: unknown } } | null;
  if (typeof event?.type !== 'string') return undefined;
  if (INTAKE_EVENT_TYPES.has(event.type)) return INTAKE_SIGNER;
  const vendor = event.data?.vendor;
  return typeof vendor === 'string' && (VENDORS as readonly string[]).includes(vendor) ? workerSigner(vendor as Vendor) : undefined;
}

export interface SignsMessages {
  /** The MESSAGE_SIGNATURE_HEADER value for `value` published on `topic`, alone. */
  sign(topic: string, value: Buffer): string;
  /** The MESSAGE_SIGNATURE_HEADER value of each of `values`, published together on `topic`: one signature for all. */
  signBatch(topic: string, values: readonly Buffer[]): string[];
}

export type Origin = { signer: string } | { untrusted: string };

export interface VerifiesMessages {
  /** Who signed `value` for `topic`, or why nobody trusted did; details name kids and topics, never key material. */
  verify(topic: string, value: Buffer | null, signature: string | undefined): Origin;
}

const base64url = /^[A-Za-z0-9_-]+$/;
const signingJwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(base64url), kid: z.string().min(1).max(200) });
const privateJwk = signingJwk.extend({ d: z.string().regex(base64url) });
/**
 * A trusted public key; `notAfter` (ISO 8601 with offset) retires it: trusted until then, refused
 * after, by every service alike, restarted or not.
 */
const publicJwk = signingJwk.extend({ notAfter: z.iso.datetime({ offset: true }).optional() });
type PublicJwk = z.output<typeof publicJwk>;
type PrivateJwk = z.output<typeof privateJwk>;
const signersFile = z
  .record(z.string().regex(/^[a-z0-9-]+$/), z.object({ keys: z.array(publicJwk).min(1) }))
  .refine((signers) => new Set(Object.values(signers).flatMap(({ keys }) => keys.map((key) => key.kid))).size === Object.values(signers).flatMap(({ keys }) => keys).length, 'every kid must be unique across signers');

/** Signs with one private Ed25519 key; the protected header of each topic is encoded once. */
export class MessageSigner implements SignsMessages {
  readonly kid: string;
  readonly #key: KeyObject;
  readonly #prefixes = new Map<string, { prefix: Buffer; header: string }>();

  constructor(jwk: PrivateJwk) {
    this.kid = jwk.kid;
    this.#key = createPrivateKey({ key: jwk, format: 'jwk' });
  }

  sign(topic: string, value: Buffer): string {
    let cached = this.#prefixes.get(topic);
    if (!cached) {
      const header = encodeHeader({ alg: 'EdDSA', kid: this.kid, b64: false, crit: ['b64'], pinflow_topic: topic });
      cached = { header, prefix: Buffer.from(`${header}.`) };
      this.#prefixes.set(topic, cached);
    }
    return `${cached.header}..${sign(null, Buffer.concat([cached.prefix, value]), this.#key).toString('base64url')}`;
  }

  signBatch(topic: string, values: readonly Buffer[]): string[] {
    if (values.length === 1) return [this.sign(topic, values[0])];
    const header = encodeHeader({ alg: 'EdDSA', kid: this.kid, pinflow_topic: topic, pinflow_batch: values.length });
    const levels = merkleLevels(values.map(leafHash));
    const root = levels[levels.length - 1][0].toString('base64url');
    const jws = `${header}.${root}.${sign(null, Buffer.from(`${header}.${root}`), this.#key).toString('base64url')}`;
    return values.map((_, index) => [jws, index, ...inclusionProof(levels, index).map((sibling) => sibling.toString('base64url'))].join(PROOF_SEPARATOR));
  }
}

function encodeHeader(header: object): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url');
}

/** Separates a batch signature's JWS, leaf index and siblings (as SD-JWT separates its parts). */
const PROOF_SEPARATOR = '~';
/** More messages than a produce request carries: a batch header claiming more is not pinflow's. */
const MAX_BATCH = 100_000;
// RFC 6962's prefixes: a leaf can never pass for an inner node, nor the reverse.
const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

// One-shot hashes: a Hash object costs more than hashing a message.
function leafHash(value: Buffer): Buffer {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, value]), 'buffer');
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}

/** The tree's levels from the leaves up to the root; a level's last node without a sibling goes up unchanged. */
function merkleLevels(leaves: Buffer[]): Buffer[][] {
  const levels = [leaves];
  for (let level = leaves; level.length > 1; levels.push(level)) {
    const below = level;
    level = [];
    for (let index = 0; index < below.length; index += 2) level.push(index + 1 < below.length ? nodeHash(below[index], below[index + 1]) : below[index]);
  }
  return levels;
}

/** The siblings on the way from leaf `index` to the root. */
function inclusionProof(levels: Buffer[][], index: number): Buffer[] {
  const siblings: Buffer[] = [];
  for (let level = 0, position = index; level < levels.length - 1; level += 1, position >>= 1) {
    const sibling = position ^ 1;
    if (sibling < levels[level].length) siblings.push(levels[level][sibling]);
  }
  return siblings;
}

/** The root `value` and its proof lead to in a tree of `leaves` leaves; undefined for a proof that does not fit the tree. */
function rootOf(value: Buffer, index: number, leaves: number, siblings: Buffer[]): string | undefined {
  let hash = leafHash(value);
  let used = 0;
  for (let width = leaves, position = index; width > 1; width = Math.ceil(width / 2), position >>= 1) {
    if ((position ^ 1) >= width) continue;
    const sibling = siblings[used++];
    if (!sibling) return undefined;
    hash = position & 1 ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
  }
  return used === siblings.length ? hash.toString('base64url') : undefined;
}

interface ProtectedHeader {
  kid: string;
  topic: string;
  /** Of a single message's detached JWS: `<protected>.`, which its value follows in the signing input. */
  prefix?: Buffer;
  /** Of a batch's JWS: how many messages it signed. */
  batch?: number;
}

/** Protected headers seen (one per topic, kid and batch size); bounded, since a forger can send as many distinct ones as it likes. */
const MAX_CACHED_HEADERS = 4_096;
/** Batch signatures verified, each good for every message of its batch; bounded likewise. */
const MAX_VERIFIED_BATCHES = 4_096;

interface TrustedKey {
  signer: string;
  key: KeyObject;
  /** Epoch ms from which the key is no longer trusted (its `notAfter`); absent for a key in service. */
  notAfter?: number;
}

/**
 * Verifies against the public keys of the trusted signers, each key known as its service's, and each
 * only until its `notAfter`. A key removed from the file is distrusted at once: the grace of a retired
 * key lives in the file, so every pod, restarted or not, applies the same one.
 */
export class MessageVerifier implements VerifiesMessages {
  readonly #keys: Map<string, TrustedKey>;
  readonly #headers = new Map<string, ProtectedHeader | undefined>();
  readonly #verifiedBatches = new Set<string>();

  constructor(signers: Record<string, { keys: PublicJwk[] }>) {
    this.#keys = new Map(
      Object.entries(signers).flatMap(([signer, { keys }]) =>
        keys.map(({ notAfter, ...jwk }) => [jwk.kid, { signer, key: createPublicKey({ key: jwk, format: 'jwk' }), ...(notAfter === undefined ? {} : { notAfter: Date.parse(notAfter) }) }] as const),
      ),
    );
  }

  verify(topic: string, value: Buffer | null, signature: string | undefined): Origin {
    if (signature === undefined) return { untrusted: `no ${MESSAGE_SIGNATURE_HEADER} header` };
    const [jws, ...proof] = signature.split(PROOF_SEPARATOR);
    const parts = jws.split('.');
    if (parts.length !== 3 || (parts[1] === '') !== (proof.length === 0)) return { untrusted: 'the signature is neither a detached compact JWS nor a batch JWS with an inclusion proof' };
    const header = this.protectedHeader(parts[0]);
    if (!header || (header.batch === undefined) !== (proof.length === 0)) {
      return { untrusted: 'the signature header is not an EdDSA JWS header with kid and pinflow_topic, and b64=false or pinflow_batch' };
    }
    if (header.topic !== topic) return { untrusted: `signed for topic ${header.topic}, found on ${topic}` };
    const known = this.#keys.get(header.kid);
    if (!known) return { untrusted: `kid ${header.kid} is no trusted signer's key` };
    if (known.notAfter !== undefined && known.notAfter <= Date.now()) return { untrusted: `kid ${header.kid} was retired at ${new Date(known.notAfter).toISOString()}` };
    if (!signersOf(topic)?.has(known.signer)) return { untrusted: `${known.signer} may not publish on ${topic}` };
    const bytes = value ?? Buffer.alloc(0);
    const valid = header.prefix ? verify(null, Buffer.concat([header.prefix, bytes]), known.key, Buffer.from(parts[2], 'base64url')) : this.inVerifiedBatch(jws, header.batch!, bytes, proof, known.key);
    return valid ? { signer: known.signer } : { untrusted: `the signature of kid ${header.kid} does not match the message` };
  }

  /** Whether the proof leads from `value` to the batch's root, and the batch's signature is good (verified once per batch). */
  private inVerifiedBatch(jws: string, batch: number, value: Buffer, [index, ...siblings]: string[], key: KeyObject): boolean {
    if (!/^\d{1,6}$/.test(index) || Number(index) >= batch || !siblings.every((sibling) => SIBLING.test(sibling))) return false;
    const [header, root, signature] = jws.split('.');
    if (rootOf(value, Number(index), batch, siblings.map((sibling) => Buffer.from(sibling, 'base64url'))) !== root) return false;
    if (this.#verifiedBatches.has(jws)) return true;
    if (!verify(null, Buffer.from(`${header}.${root}`), key, Buffer.from(signature, 'base64url'))) return false;
    if (this.#verifiedBatches.size >= MAX_VERIFIED_BATCHES) this.#verifiedBatches.clear();
    this.#verifiedBatches.add(jws);
    return true;
  }

  private protectedHeader(encoded: string): ProtectedHeader | undefined {
    if (this.#headers.has(encoded)) return this.#headers.get(encoded);
    const header = parseProtectedHeader(encoded);
    if (this.#headers.size >= MAX_CACHED_HEADERS) this.#headers.clear();
    this.#headers.set(encoded, header);
    return header;
  }
}

/** A SHA-256 hash, base64url. */
const SIBLING = /^[A-Za-z0-9_-]{43}$/;

const singleMessageHeader = z.strictObject({ alg: z.literal('EdDSA'), kid: z.string().min(1), b64: z.literal(false), crit: z.tuple([z.literal('b64')]), pinflow_topic: z.string().min(1) });
const batchHeader = z.strictObject({ alg: z.literal('EdDSA'), kid: z.string().min(1), pinflow_topic: z.string().min(1), pinflow_batch: z.int().min(1).max(MAX_BATCH) });

function parseProtectedHeader(encoded: string): ProtectedHeader | undefined {
  if (!base64url.test(encoded)) return undefined;
  try {
    const fields: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    const single = singleMessageHeader.safeParse(fields);
    if (single.success) return { kid: single.data.kid, topic: single.data.pinflow_topic, prefix: Buffer.from(`${encoded}.`) };
    const batch = batchHeader.safeParse(fields);
    return batch.success ? { kid: batch.data.kid, topic: batch.data.pinflow_topic, batch: batch.data.pinflow_batch } : undefined;
  } catch {
    return undefined;
  }
}

/** A service's message keys: MESSAGE_SIGNING_KEY_FILE if it publishes, MESSAGE_SIGNERS_FILE if it consumes signed topics. */
export const messageSigningConfig = {
  /** The service's private Ed25519 JWK (with kid): what it signs its commands or events with. */
  MESSAGE_SIGNING_KEY_FILE: z.string().min(1),
};
export const messageVerifyingConfig = {
  /** The public keys of every trusted signer, as `{ "<service>": { "keys": [JWK, …] } }`. */
  MESSAGE_SIGNERS_FILE: z.string().min(1),
  /** How often both files are read again: a changed file rotates keys without a restart. */
  MESSAGE_KEYS_RELOAD_INTERVAL_MS: positiveInt.default(10_000),
  MESSAGE_KEYS_GRACE_PERIOD_SECONDS: removedSetting('write "notAfter" (ISO 8601) on the retiring public key in MESSAGE_SIGNERS_FILE instead'),
};

export interface MessageTrustSettings {
  MESSAGE_SIGNING_KEY_FILE?: string;
  MESSAGE_SIGNERS_FILE?: string;
  MESSAGE_KEYS_RELOAD_INTERVAL_MS?: number;
}

/**
 * A service's signing key and trusted signers, from their files, read again on an interval so that
 * replacing a mounted Secret rotates keys without a restart. A file that cannot be read or parsed at
 * start-up is a ConfigError (exit 78); later, the keys in use stay and the failure is logged.
 */
export class MessageTrust implements SignsMessages, VerifiesMessages {
  #signer?: MessageSigner;
  #verifier?: MessageVerifier;
  readonly #texts = new Map<string, string>();
  readonly #timer?: NodeJS.Timeout;

  private constructor(
    private readonly settings: MessageTrustSettings,
    private readonly service: string,
    private readonly logger?: Logger,
  ) {
    this.load(true);
    if (settings.MESSAGE_SIGNING_KEY_FILE || settings.MESSAGE_SIGNERS_FILE) {
      this.#timer = setInterval(() => this.load(false), settings.MESSAGE_KEYS_RELOAD_INTERVAL_MS ?? 10_000).unref();
    }
  }

  static open(settings: MessageTrustSettings, service: string, logger?: Logger): MessageTrust {
    return new MessageTrust(settings, service, logger);
  }

  /** This, if the service has a signing key: what its producer signs with. */
  get signing(): SignsMessages | undefined {
    return this.#signer ? this : undefined;
  }

  /** This, if the service knows the trusted signers: what its consumers verify with. */
  get verifying(): VerifiesMessages | undefined {
    return this.#verifier ? this : undefined;
  }

  sign(topic: string, value: Buffer): string {
    return this.signer().sign(topic, value);
  }

  signBatch(topic: string, values: readonly Buffer[]): string[] {
    return this.signer().signBatch(topic, values);
  }

  private signer(): MessageSigner {
    if (!this.#signer) throw new Error(`${this.service} has no MESSAGE_SIGNING_KEY_FILE to sign with`);
    return this.#signer;
  }

  verify(topic: string, value: Buffer | null, signature: string | undefined): Origin {
    if (!this.#verifier) return { untrusted: `${this.service} has no MESSAGE_SIGNERS_FILE to verify with` };
    return this.#verifier.verify(topic, value, signature);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  private load(starting: boolean): void {
    try {
      const { MESSAGE_SIGNING_KEY_FILE: keyFile, MESSAGE_SIGNERS_FILE: signersPath } = this.settings;
      if (keyFile && this.changed(keyFile)) this.#signer = new MessageSigner(this.parse('MESSAGE_SIGNING_KEY_FILE', keyFile, privateJwk));
      if (signersPath && this.changed(signersPath)) {
        this.#verifier = new MessageVerifier(this.parse('MESSAGE_SIGNERS_FILE', signersPath, signersFile));
      }
    } catch (error) {
      if (starting) throw error;
      this.logger?.error({ error: error instanceof ConfigError ? error.problems : (error as Error).name }, 'reloading the message keys failed; keeping the keys in use');
    }
  }

  /** Whether the file's text differs from what was loaded last; remembered only once it parsed. */
  private changed(file: string): boolean {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return true; // parse() reports it, naming the variable
    }
    return this.#texts.get(file) !== text;
  }

  private parse<S extends z.ZodType>(variable: string, file: string, schema: S): z.output<S> {
    const parsed = loadJsonFile(this.service, variable, file, schema);
    this.#texts.set(file, readFileSync(file, 'utf8'));
    return parsed;
  }
}

/** A fresh Ed25519 key pair as JWKs under `kid`. */
export function generateMessageSigningKey(kid: string): { privateJwk: PrivateJwk; publicJwk: PublicJwk } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const { x, d } = privateKey.export({ format: 'jwk' });
  return { privateJwk: { kty: 'OKP', crv: 'Ed25519', x: x!, d: d!, kid }, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: x!, kid } };
}

export interface MessageKeyFiles {
  /** Each signer's MESSAGE_SIGNING_KEY_FILE. */
  signingKeyFiles: Record<string, string>;
  /** Everyone's MESSAGE_SIGNERS_FILE. */
  signersFile: string;
  /** A signer with `service`'s key, e.g. for a test that publishes as intake. */
  signerOf(service: string): MessageSigner;
  /** Signs each message as its rightful signer would: for a test that stands in for the whole platform. */
  rightfulSigners: SignsMessages;
}

/**
 * Key files for a local platform or a test: a private key per signer in `dir` and the public keys of
 * all in one signers file. Kept if present (restarts keep verifying what was published before).
 */
export function writeMessageKeyFiles(dir: string, signers: readonly string[] = MESSAGE_SIGNERS): MessageKeyFiles {
  mkdirSync(dir, { recursive: true });
  const privateKeys = Object.fromEntries(
    signers.map((service) => {
      const file = path.join(dir, `${service}.json`);
      let jwk: PrivateJwk;
      try {
        jwk = privateJwk.parse(JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        jwk = generateMessageSigningKey(`${service}-${Date.now().toString(36)}`).privateJwk;
        writeAtomically(file, JSON.stringify(jwk), 0o600);
      }
      return [service, { file, jwk }];
    }),
  );
  const signersFilePath = path.join(dir, 'signers.json');
  const publicKeys = Object.fromEntries(Object.entries(privateKeys).map(([service, { jwk }]) => [service, { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid }] }]));
  writeAtomically(signersFilePath, JSON.stringify(publicKeys, null, 2), 0o644);
  const signerOf = (service: string) => {
    if (!privateKeys[service]) throw new Error(`no message key for ${service}`);
    return new MessageSigner(privateKeys[service].jwk);
  };
  const bySigner = new Map(signers.map((service) => [service, signerOf(service)]));
  const rightfulSignerOf = (topic: string, value: Buffer) => {
    const signer = bySigner.get(rightfulSigner(topic, JSON.parse(value.toString('utf8'))) ?? '');
    if (!signer) throw new Error(`no rightful signer for this message on ${topic}`);
    return signer;
  };
  return {
    signingKeyFiles: Object.fromEntries(Object.entries(privateKeys).map(([service, { file }]) => [service, file])),
    signersFile: signersFilePath,
    signerOf,
    rightfulSigners: {
      sign: (topic, value) => rightfulSignerOf(topic, value).sign(topic, value),
      // One signature each: a test's batch may mix intake's messages with workers'.
      signBatch: (topic, values) => values.map((value) => rightfulSignerOf(topic, value).sign(topic, value)),
    },
  };
}

// Written beside and renamed over: a service reloading the file never reads half of it.
function writeAtomically(file: string, text: string, mode: number): void {
  const partial = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(partial, `${text}\n`, { mode });
  renameSync(partial, file);
}
