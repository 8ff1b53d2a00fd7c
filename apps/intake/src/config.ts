import { booleanFlag, httpConfig, jsonText, logConfig, positiveInt } from '@pinflow/config';
import { REQUESTER_ID, VENDOR_CONTRACTS, VENDORS } from '@pinflow/contracts';
import { databaseConfig } from '@pinflow/sql';
import { kafkaConfig, messageSigningConfig, messageVerifyingConfig } from '@pinflow/kafka';
import { authConfig } from '@pinflow/auth';
import { pinKeysConfig } from '@pinflow/pin-crypto';
import { z } from 'zod';
import { cardOwnershipConfig, cardOwnershipMode, requireCardOwners } from './card-ownership';
import { d1InboundConfig, requireD1InboundSettings } from './d1-inbound/config';

const requesterSettings = {
  replyTopics: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,249}$/)).default([]),
  tenant: z.string().min(1).optional(),
};

/**
 * Who may publish requests over Kafka: requester id → where its signing keys are (`jwksUrl`, or
 * `publicKeyFile`: a JWK, JWKS or PEM SPKI key), the topics it may ask its answers on
 * (`replyTopics`; intake creates them) and its `tenant`, as a token's tenant claim would name it:
 * whose cards it may act on and whose callers see its requests. The requester id is the `caller` of
 * its requests, the `iss` of its signatures, its Kafka principal, and names its request topic
 * (requestTopic), which intake creates and consumes.
 */
export const kafkaRequesterRegistrations = z.record(
  z.string().regex(REQUESTER_ID, 'a requester id is 1-64 letters, digits, - or _ (it names a Kafka topic)'),
  z.union([z.strictObject({ jwksUrl: z.url({ protocol: /^https?$/ }), ...requesterSettings }), z.strictObject({ publicKeyFile: z.string().min(1), ...requesterSettings })]),
);
export type KafkaRequesterRegistrations = z.output<typeof kafkaRequesterRegistrations>;

/** kafkaRequesterRegistrations as the JSON text of a variable. */
const kafkaRequesters = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(kafkaRequesterRegistrations);

function oneRequesterSource(config: { INTAKE_KAFKA_REQUESTERS?: unknown; INTAKE_KAFKA_REQUESTERS_FILE?: string }, context: z.RefinementCtx): void {
  if (config.INTAKE_KAFKA_REQUESTERS !== undefined && config.INTAKE_KAFKA_REQUESTERS_FILE !== undefined) {
    context.addIssue({ code: 'custom', path: ['INTAKE_KAFKA_REQUESTERS_FILE'], message: 'name the requesters in INTAKE_KAFKA_REQUESTERS or in this file, not both' });
  }
}

/** The vendors whose commands carry a secret intake seals: each needs its command keys. */
export const VENDORS_WITH_SECRETS = VENDOR_CONTRACTS.filter((vendor) => vendor.routes.some((route) => route.secrets)).map((vendor) => vendor.name);

function requireCommandKeyFiles(config: { COMMAND_KEYS_FILES: Partial<Record<string, string>> }, context: z.RefinementCtx): void {
  for (const vendor of VENDORS_WITH_SECRETS) {
    if (!config.COMMAND_KEYS_FILES[vendor]) context.addIssue({ code: 'custom', path: ['COMMAND_KEYS_FILES', vendor], message: `${vendor}'s commands carry secrets: name the file of its public command keys` });
  }
}

export const intakeConfigSchema = z
  .object({
    ...httpConfig,
    PORT: httpConfig.PORT.default(8080),
    ...logConfig,
    ...kafkaConfig,
    ...messageSigningConfig,
    ...messageVerifyingConfig,
    ...databaseConfig,
    ...authConfig,
    ...pinKeysConfig,
    /**
     * Each vendor's command keys, as JSON: vendor → a JWKS file of public keys only (its worker holds
     * the private ones). Every vendor whose commands carry secrets needs one.
     */
    COMMAND_KEYS_FILES: jsonText.pipe(z.partialRecord(z.enum(VENDORS), z.string().min(1))),
    /** How long a secret sealed into a command may be used: a command run later than this fails with SECRET_EXPIRED. */
    INTAKE_SEALED_SECRET_TTL_SECONDS: positiveInt.default(86_400),
    /** Accept `pin` in clear (over TLS) besides `encryptedPin`. Off unless a deployment opts in. */
    INTAKE_ALLOW_PLAINTEXT_PIN: booleanFlag.default(false),
    /** Where callers reach intake; status URLs are built from it. */
    INTAKE_PUBLIC_BASE_URL: z.url().optional(),
    INTAKE_STATUS_GROUP: z.string().min(1).default('pinflow-intake-status'),
    /** The consumer group of the Kafka front door (the requesters' request topics). */
    INTAKE_REQUESTS_GROUP: z.string().min(1).default('pinflow-intake-requests'),
    /** Cards whose requests the Kafka door accepts at once (each card's in order); they share the group commits. */
    INTAKE_REQUESTS_KEYS_CONCURRENTLY: positiveInt.default(64),
    /** The Kafka door's requesters, fixed at start-up (none if unset). */
    INTAKE_KAFKA_REQUESTERS: kafkaRequesters.optional(),
    /**
     * Instead: a file of the same JSON, read again (with the key files it names) every
     * INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS, so that a requester is added or removed without a restart.
     */
    INTAKE_KAFKA_REQUESTERS_FILE: z.string().min(1).optional(),
    INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS: positiveInt.default(10_000),
    /** Solaris, for serving its PIN key to apps (GET /v1/solaris/pin-key); optional. */
    SOLARIS_BASE_URL: z.url().optional(),
    SOLARIS_TOKEN_URL: z.url().optional(),
    SOLARIS_CLIENT_ID: z.string().min(1).optional(),
    SOLARIS_CLIENT_SECRET: z.string().min(1).optional(),
    INTAKE_SOLARIS_KEY_TTL_SECONDS: positiveInt.default(300),
    /** How often the outbox relay looks for work it was not woken for (another replica's, a retry). */
    INTAKE_OUTBOX_POLL_MS: positiveInt.default(200),
    /**
     * Write requests in progress at once beyond which more are refused (503, Retry-After) instead of
     * queued. The queue's wait is this count over the replica's throughput: 128 keeps it under half a
     * second at the bench's maximum, and 80 % of that load never reached it (README, "Figures").
     */
    INTAKE_MAX_PENDING_ACCEPTANCES: positiveInt.default(128),
    ...d1InboundConfig,
    ...cardOwnershipConfig,
  })
  .superRefine(requireD1InboundSettings)
  .superRefine(requireCardOwners)
  .superRefine(requireCommandKeyFiles)
  .superRefine(oneRequesterSource)
  .transform((config) => ({
    ...config,
    INTAKE_CARD_OWNERSHIP: cardOwnershipMode(config),
    INTAKE_PUBLIC_BASE_URL: (config.INTAKE_PUBLIC_BASE_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/$/, ''),
  }));

export type IntakeConfig = z.output<typeof intakeConfigSchema>;
export const INTAKE_CONFIG = Symbol('INTAKE_CONFIG');
