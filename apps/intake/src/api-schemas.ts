import { cardId, compactJwe, thalesD1ChangePinCommand, vaultSetPasscodeCommand } from '@pinflow/contracts';
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

export const cardIdParam = cardId;
export const thalesD1CardIdParam = thalesD1ChangePinCommand.shape.cardId;
export const thalesD1IssuerIdParam = thalesD1ChangePinCommand.shape.issuerId;
export const vaultCardIdParam = vaultSetPasscodeCommand.shape.cardId;
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
