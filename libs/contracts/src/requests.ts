import { z } from 'zod';
import { cardId, compactJwe, pismoUpdateOfflinePinCommand, thalesD1ChangePinCommand, vaultSetPasscodeCommand } from './commands';
import type { Vendor } from './topics';

/**
 * Request bodies of intake's HTTP API. Every secret arrives encrypted to pinflow's PIN key
 * (`encrypted…`) or, where a deployment allows it, in clear over TLS — never both.
 */
function exactlyOne(encrypted: string, clear: string): [(body: Record<string, unknown>) => boolean, { message: string; path: string[] }] {
  return [
    (body) => (body[encrypted] === undefined) !== (body[clear] === undefined),
    { message: `exactly one of ${encrypted} and ${clear} is required`, path: [encrypted] },
  ];
}

const clearSecret = z.string().max(32);

export const pismoChangePinBody = z
  .strictObject({ encryptedPin: compactJwe.optional(), pin: clearSecret.optional(), syncOfflinePin: z.boolean().default(false) })
  .refine(...exactlyOne('encryptedPin', 'pin'));
export type PismoChangePinBody = z.output<typeof pismoChangePinBody>;

export const pismoIncreasePasswordTriesBody = z.strictObject({ blockCardExceedsCounter: z.boolean() });
export type PismoIncreasePasswordTriesBody = z.output<typeof pismoIncreasePasswordTriesBody>;

/** A PIN for the chip only, through the issuer's PIN update script registered with Pismo. */
export const pismoUpdateOfflinePinBody = z
  .strictObject({
    encryptedPin: compactJwe.optional(),
    pin: clearSecret.optional(),
    scriptId: pismoUpdateOfflinePinCommand.shape.scriptId,
    accountId: pismoUpdateOfflinePinCommand.shape.accountId,
  })
  .refine(...exactlyOne('encryptedPin', 'pin'));
export type PismoUpdateOfflinePinBody = z.output<typeof pismoUpdateOfflinePinBody>;

/** For operations that take nothing but the card: no body, or an empty JSON object. */
export const emptyBody = z.strictObject({}).optional();

/** Solaris: what the cardholder's device produced, relayed untouched (pinflow cannot read the PIN). */
export const solarisChangePinBody = z.strictObject({
  deviceId: z.string().min(1).max(128),
  encryptedPin: compactJwe,
  keyId: z.string().min(1).max(256),
  signature: z.string().min(1).max(1024),
  deviceData: z.string().max(8192).optional(),
});
export type SolarisChangePinBody = z.output<typeof solarisChangePinBody>;

export const thalesD1ChangePinBody = z
  .strictObject({
    pinBlockFormat: thalesD1ChangePinCommand.shape.pinBlockFormat,
    encryptedPin: compactJwe.optional(),
    pin: clearSecret.optional(),
    encryptedPan: compactJwe.optional(),
    pan: clearSecret.optional(),
  })
  .refine(...exactlyOne('encryptedPin', 'pin'))
  .refine(...exactlyOne('encryptedPan', 'pan'));
export type ThalesD1ChangePinBody = z.output<typeof thalesD1ChangePinBody>;

export const vaultSetPasscodeBody = z
  .strictObject({
    encryptedPasscode: compactJwe.optional(),
    passcode: clearSecret.optional(),
    /** The one-time code Vault sent the cardholder by SMS. */
    encryptedCode: compactJwe.optional(),
    code: clearSecret.optional(),
  })
  .refine(...exactlyOne('encryptedPasscode', 'passcode'))
  .refine(...exactlyOne('encryptedCode', 'code'));
export type VaultSetPasscodeBody = z.output<typeof vaultSetPasscodeBody>;

/** The one-time code the cardholder typed, to check before setting the passcode with it. */
export const vaultCheckVerificationCodeBody = z
  .strictObject({ encryptedCode: compactJwe.optional(), code: clearSecret.optional() })
  .refine(...exactlyOne('encryptedCode', 'code'));
export type VaultCheckVerificationCodeBody = z.output<typeof vaultCheckVerificationCodeBody>;


/*
 * Ids in a path end up in the vendor's URL: each is held to a strict charset here, so `/`, `..`, `?`,
 * `#`, NUL, CR/LF, spaces or non-ASCII never reach a worker. The command contracts are the outer
 * bound; where one is looser, the path is tightened here rather than the contract.
 */
export const cardIdParam = cardId;
export const thalesD1CardIdParam = thalesD1ChangePinCommand.shape.cardId;
/** D1 issuer ids are 10 characters; the contract checks only the length. */
export const thalesD1IssuerIdParam = thalesD1ChangePinCommand.shape.issuerId.regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');
const INT64_MAX = 2n ** 63n - 1n;
/** Vault card ids are positive int64s; the contract's pattern allows 19 digits up to 9999999999999999999. */
export const vaultCardIdParam = vaultSetPasscodeCommand.shape.cardId.refine(
  // zod runs this even when the pattern failed: only a string of digits is judged (and parsable) here.
  (id) => !/^[0-9]+$/.test(id) || BigInt(id) <= INT64_MAX,
  'must be at most 9223372036854775807 (int64)',
);

/** An Idempotency-Key (IETF httpapi-idempotency-key-header), or a Kafka requester's request id: a client-chosen unique string. */
export const idempotencyKey = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Fields that hold a secret in clear: HTTP may take them (over TLS, where allowed), Kafka never. */
const CLEAR_SECRET_FIELDS = ['pin', 'passcode', 'code', 'pan'];

/** A body as the Kafka door takes it: the HTTP body, with every secret sealed. */
function sealedOnly<S extends z.ZodType<Record<string, unknown>>>(body: S) {
  const rule = `clear secrets (${CLEAR_SECRET_FIELDS.join(', ')}) are never taken from Kafka: encrypt them to the key at /v1/pin-keys`;
  return body.refine((value) => CLEAR_SECRET_FIELDS.every((field) => value[field] === undefined), { message: rule }).meta({ description: `The HTTP API's body; ${rule}.` });
}

/**
 * What every message on pinflow.requests.v1 starts with. `clientRequestId` is the requester's
 * request id: its idempotency key, echoed in the answer. Answers go to pinflow.events.v1 and, when
 * `replyTopic` names one the requester may use, there too.
 */
export const REQUEST_SCHEMA_VERSION = 1;
export const requestEnvelope = z.looseObject({
  schemaVersion: z.number(),
  clientRequestId: idempotencyKey,
  replyTopic: z.string().min(1).max(249).regex(/^[A-Za-z0-9._-]+$/, 'must be a Kafka topic name').optional(),
});

const envelopeFields = { ...requestEnvelope.shape, schemaVersion: z.literal(REQUEST_SCHEMA_VERSION) };

/** One message per vendor and operation: the HTTP API's path parameters and body (`body`), secrets sealed. */
export const REQUEST_SCHEMAS = {
  'pismo.change_pin': z.strictObject({ ...envelopeFields, vendor: z.literal('pismo'), operation: z.literal('change_pin'), cardId: cardIdParam, body: sealedOnly(pismoChangePinBody) }),
  'pismo.increase_password_tries': z.strictObject({ ...envelopeFields, vendor: z.literal('pismo'), operation: z.literal('increase_password_tries'), cardId: cardIdParam, body: pismoIncreasePasswordTriesBody }),
  'pismo.reset_password_tries': z.strictObject({ ...envelopeFields, vendor: z.literal('pismo'), operation: z.literal('reset_password_tries'), cardId: cardIdParam, body: emptyBody }),
  'pismo.sync_offline_pin': z.strictObject({ ...envelopeFields, vendor: z.literal('pismo'), operation: z.literal('sync_offline_pin'), cardId: cardIdParam, body: emptyBody }),
  'pismo.update_offline_pin': z.strictObject({ ...envelopeFields, vendor: z.literal('pismo'), operation: z.literal('update_offline_pin'), cardId: cardIdParam, body: sealedOnly(pismoUpdateOfflinePinBody) }),
  'solaris.change_pin': z.strictObject({ ...envelopeFields, vendor: z.literal('solaris'), operation: z.literal('change_pin'), cardId: cardIdParam, body: solarisChangePinBody }),
  'thales-d1.change_pin': z.strictObject({ ...envelopeFields, vendor: z.literal('thales-d1'), operation: z.literal('change_pin'), issuerId: thalesD1IssuerIdParam, cardId: thalesD1CardIdParam, body: sealedOnly(thalesD1ChangePinBody) }),
  'vault.set_passcode': z.strictObject({ ...envelopeFields, vendor: z.literal('vault'), operation: z.literal('set_passcode'), cardId: vaultCardIdParam, body: sealedOnly(vaultSetPasscodeBody) }),
  'vault.send_verification_code': z.strictObject({ ...envelopeFields, vendor: z.literal('vault'), operation: z.literal('send_verification_code'), cardId: vaultCardIdParam, body: emptyBody }),
  'vault.check_verification_code': z.strictObject({ ...envelopeFields, vendor: z.literal('vault'), operation: z.literal('check_verification_code'), cardId: vaultCardIdParam, body: sealedOnly(vaultCheckVerificationCodeBody) }),
} satisfies Record<string, z.ZodObject<{ vendor: z.ZodLiteral<Vendor>; operation: z.ZodLiteral<string> }>>;
export type RequestType = keyof typeof REQUEST_SCHEMAS;
export type PinflowRequest<T extends RequestType = RequestType> = z.output<(typeof REQUEST_SCHEMAS)[T]>;

/** The schema of a request of `vendor` and `operation`, if pinflow takes such requests. */
export function requestSchemaOf(vendor: unknown, operation: unknown): (typeof REQUEST_SCHEMAS)[RequestType] | undefined {
  return Object.hasOwn(REQUEST_SCHEMAS, `${vendor}.${operation}`) ? REQUEST_SCHEMAS[`${vendor}.${operation}` as RequestType] : undefined;
}

/** The header holding a request's signature: a compact JWS with detached payload (RFC 7515 appendix F) over the message value's exact bytes. */
export const REQUEST_SIGNATURE_HEADER = 'pinflow-signature';
