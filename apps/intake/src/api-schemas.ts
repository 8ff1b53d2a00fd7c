import { cardId, compactJwe, pismoUpdateOfflinePinCommand, thalesD1ChangePinCommand, vaultSetPasscodeCommand } from '@pinflow/contracts';
import { z } from 'zod';

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
export const requestIdParam = z.uuid();

/** Idempotency-Key header (IETF httpapi-idempotency-key-header): a client-chosen unique string. */
export const idempotencyKeyHeader = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional();

export const acceptedResponse = z.object({
  requestId: z.uuid(),
  status: z.literal('accepted'),
  statusUrl: z.string(),
});
export type AcceptedResponse = z.infer<typeof acceptedResponse>;

export const requestStatusResponse = z.object({
  requestId: z.uuid(),
  status: z.enum(['accepted', 'succeeded', 'failed']),
  vendor: z.string(),
  operation: z.string(),
  cardId: z.string(),
  acceptedAt: z.string(),
  completedAt: z.string().nullable(),
  events: z.array(z.object({ id: z.string(), type: z.string(), time: z.string(), data: z.record(z.string(), z.unknown()) })),
});
export type RequestStatusResponse = z.infer<typeof requestStatusResponse>;
