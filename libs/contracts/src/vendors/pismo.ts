import { PinRules, WEAK_PIN_POLICY } from '@pinflow/pin-policy';
import { z } from 'zod';
import { cardIdParam, clearSecret, commandEnvelope, compactJwe, defineVendor, emptyBody, exactlyOne } from '../vendor-contract';

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

export type PismoChangePinCommand = z.infer<typeof pismoChangePinCommand>;
export type PismoIncreasePasswordTriesCommand = z.infer<typeof pismoIncreasePasswordTriesCommand>;
export type PismoResetPasswordTriesCommand = z.infer<typeof pismoResetPasswordTriesCommand>;
export type PismoSyncOfflinePinCommand = z.infer<typeof pismoSyncOfflinePinCommand>;
export type PismoUpdateOfflinePinCommand = z.infer<typeof pismoUpdateOfflinePinCommand>;
export type PismoCommand = z.infer<typeof pismoCommand>;

export const pismoChangePinBody = z
  .strictObject({ encryptedPin: compactJwe.optional(), pin: clearSecret.optional(), syncOfflinePin: z.boolean().default(false) })
  .refine(...exactlyOne('encryptedPin', 'pin'));

export const pismoIncreasePasswordTriesBody = z.strictObject({ blockCardExceedsCounter: z.boolean() });

/** A PIN for the chip only, through the issuer's PIN update script registered with Pismo. */
export const pismoUpdateOfflinePinBody = z
  .strictObject({
    encryptedPin: compactJwe.optional(),
    pin: clearSecret.optional(),
    scriptId: pismoUpdateOfflinePinCommand.shape.scriptId,
    accountId: pismoUpdateOfflinePinCommand.shape.accountId,
  })
  .refine(...exactlyOne('encryptedPin', 'pin'));

/**
 * Pismo accepts 4 to 6 digits (PUT /cards/{id}/password, https://developers.pismo.io); the weak-PIN
 * checks are pinflow's own policy on top.
 */
export const PISMO_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 6,
  ...WEAK_PIN_POLICY,
};

const card = { cardId: { schema: cardIdParam, label: 'card id' } };
const pin = { encryptedPin: { clear: 'pin', kind: 'pin', pinRules: PISMO_PIN_RULES } } as const;

export const pismo = defineVendor({
  name: 'pismo',
  command: pismoCommand,
  pinRules: PISMO_PIN_RULES,
  routes: [
    {
      operation: 'change_pin',
      path: 'cards/:cardId/pin',
      params: card,
      body: pismoChangePinBody,
      secrets: pin,
      summary: "Change a Pismo card's PIN",
      description: "The PIN is checked against Pismo's rules (4–6 digits) and pinflow's weak-PIN policy before anything is published.",
    },
    {
      operation: 'increase_password_tries',
      path: 'cards/:cardId/password-tries/increase',
      params: card,
      body: pismoIncreasePasswordTriesBody,
      summary: "Increase a Pismo card's password tries counter",
      description: 'With blockCardExceedsCounter, the card is blocked when the counter reaches the program maximum.',
    },
    {
      operation: 'reset_password_tries',
      path: 'cards/:cardId/password-tries/reset',
      params: card,
      body: emptyBody,
      summary: "Reset a Pismo card's password tries counter",
      description:
        'Pismo also unblocks a card that exceeding its tries had blocked; it refuses (failure event, vendorStatus 406) a card in any status but BLOCKED, NORMAL, PENDING or WARNING. No body, or {}.',
    },
    {
      operation: 'sync_offline_pin',
      path: 'cards/:cardId/offline-pin/sync',
      params: card,
      body: emptyBody,
      summary: "Write a Pismo card's online PIN to its chip",
      description:
        'Pismo appends a SYNC_PIN script that the chip receives at its next contact authorization: pinflow.card.issuer_script.appended, then issuer_script.requested as Pismo creates and applies it. No body, or {}.',
    },
    {
      operation: 'update_offline_pin',
      path: 'cards/:cardId/offline-pin',
      params: card,
      body: pismoUpdateOfflinePinBody,
      secrets: pin,
      summary: "Write a PIN to a Pismo card's chip only",
      description:
        "Through the issuer's PIN update script registered with Pismo (scriptId) for the card's account (accountId): the chip takes the PIN at its next contact authorization; the online PIN is left alone. The PIN is checked against Pismo's rules and the weak-PIN policy. Succeeds with pinflow.card.issuer_script.appended.",
    },
  ],
});
