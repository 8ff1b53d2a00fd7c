import { z } from 'zod';

/** A compact JWE: five base64url parts. The PIN never travels any other way. */
export const compactJwe = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWE');

export const cardId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');

const commandEnvelope = {
  schemaVersion: z.literal(1),
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  /** Who asked: the authenticated subject (and client, when the token names one). */
  caller: z.object({ subject: z.string().min(1), clientId: z.string().optional() }),
  issuedAt: z.iso.datetime({ offset: true }),
};

export const pismoChangePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('change_pin'),
  encryptedPin: compactJwe,
  syncOfflinePin: z.boolean(),
});

export const pismoIncreasePasswordTriesCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('increase_password_tries'),
  blockCardExceedsCounter: z.boolean(),
});

/** Clears the card's password tries counter; Pismo unblocks a card that exceeding them had blocked. */
export const pismoResetPasswordTriesCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('reset_password_tries'),
});

/** Has Pismo write the card's current online PIN to its chip at the next contact authorization. */
export const pismoSyncOfflinePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('sync_offline_pin'),
});

/**
 * Has Pismo write a PIN to the card's chip at the next contact authorization, through the issuer's
 * pre-registered PIN update script; the online PIN is left alone.
 */
export const pismoUpdateOfflinePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('update_offline_pin'),
  encryptedPin: compactJwe,
  /** The script id Pismo gave the issuer when registering its PIN update script. */
  scriptId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -'),
  /** Pismo's account id of the card (its x-account-id header). */
  accountId: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a Pismo account id'),
});

/** Messages on pinflow.commands.pismo.v1. */
export const pismoCommand = z.discriminatedUnion('operation', [
  pismoChangePinCommand,
  pismoIncreasePasswordTriesCommand,
  pismoResetPasswordTriesCommand,
  pismoSyncOfflinePinCommand,
  pismoUpdateOfflinePinCommand,
]);

/**
 * Messages on pinflow.commands.solaris.v1. The PIN was encrypted on the cardholder's device to
 * Solaris' key and signed with the device-binding key: pinflow relays both untouched and can never
 * read the PIN.
 */
export const solarisChangePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('solaris'),
  operation: z.literal('change_pin'),
  deviceId: z.string().min(1).max(128),
  encryptedPin: compactJwe,
  /** Solaris' PIN key the device encrypted to. */
  keyId: z.string().min(1).max(256),
  /** The device's signature over `encryptedPin`. */
  signature: z.string().min(1).max(1024),
  deviceData: z.string().max(8192).optional(),
});

/**
 * Messages on pinflow.commands.thales-d1.v1: a PIN for a card management system speaking Thales D1's
 * PIN Management API. PIN and PAN travel encrypted to pinflow's PIN key; the worker builds the PIN
 * block in memory.
 */
export const thalesD1ChangePinCommand = z.object({
  ...commandEnvelope,
  cardId: z.string().regex(/^[A-Za-z0-9_-]{1,48}$/, 'must match ^[A-Za-z0-9_-]{1,48}$'),
  vendor: z.literal('thales-d1'),
  operation: z.literal('change_pin'),
  issuerId: z.string().length(10),
  pinBlockFormat: z.enum(['ISO0', '3DES_SECCOS']),
  encryptedPin: compactJwe,
  encryptedPan: compactJwe,
});

const vaultCommandEnvelope = {
  ...commandEnvelope,
  cardId: z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be a positive int64'),
  vendor: z.literal('vault'),
};

/**
 * Set a card passcode. The passcode and the cardholder's one-time code (from Vault's SMS step)
 * travel encrypted to pinflow's PIN key.
 */
export const vaultSetPasscodeCommand = z.object({
  ...vaultCommandEnvelope,
  operation: z.literal('set_passcode'),
  encryptedPasscode: compactJwe,
  encryptedCode: compactJwe,
});

/** Vault's SMS step: text the cardholder a new one-time code, which replaces any earlier one. */
export const vaultSendVerificationCodeCommand = z.object({
  ...vaultCommandEnvelope,
  operation: z.literal('send_verification_code'),
});

/** Check the code the cardholder typed, without using it up; it travels encrypted to pinflow's PIN key. */
export const vaultCheckVerificationCodeCommand = z.object({
  ...vaultCommandEnvelope,
  operation: z.literal('check_verification_code'),
  encryptedCode: compactJwe,
});

/** Messages on pinflow.commands.vault.v1. */
export const vaultCommand = z.discriminatedUnion('operation', [vaultSetPasscodeCommand, vaultSendVerificationCodeCommand, vaultCheckVerificationCodeCommand]);

export type SolarisChangePinCommand = z.infer<typeof solarisChangePinCommand>;
export type ThalesD1ChangePinCommand = z.infer<typeof thalesD1ChangePinCommand>;
export type VaultSetPasscodeCommand = z.infer<typeof vaultSetPasscodeCommand>;
export type VaultSendVerificationCodeCommand = z.infer<typeof vaultSendVerificationCodeCommand>;
export type VaultCheckVerificationCodeCommand = z.infer<typeof vaultCheckVerificationCodeCommand>;
export type VaultCommand = z.infer<typeof vaultCommand>;

/** Each vendor's command topic and the schema of its messages. */
export const COMMAND_SCHEMAS = {
  pismo: pismoCommand,
  solaris: solarisChangePinCommand,
  'thales-d1': thalesD1ChangePinCommand,
  vault: vaultCommand,
} as const;

export type PinflowCommand = PismoCommand | SolarisChangePinCommand | ThalesD1ChangePinCommand | VaultCommand;
export type Operation = PinflowCommand['operation'];

export type PismoChangePinCommand = z.infer<typeof pismoChangePinCommand>;
export type PismoIncreasePasswordTriesCommand = z.infer<typeof pismoIncreasePasswordTriesCommand>;
export type PismoResetPasswordTriesCommand = z.infer<typeof pismoResetPasswordTriesCommand>;
export type PismoSyncOfflinePinCommand = z.infer<typeof pismoSyncOfflinePinCommand>;
export type PismoUpdateOfflinePinCommand = z.infer<typeof pismoUpdateOfflinePinCommand>;
export type PismoCommand = z.infer<typeof pismoCommand>;
