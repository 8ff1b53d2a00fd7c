import { PanRules, PinRules, WEAK_PIN_POLICY } from '@pinflow/pin-policy';
import { z } from 'zod';
import { atMostOne, cardIdParam, clearSecret, commandEnvelope, compactJwe, defineVendor, emptyBody, exactlyOne } from '../vendor-contract';

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
 * pre-registered PIN update script; the online PIN is left alone. With the card's PAN the worker sends
 * the PIN as the ISO 9564 format 0 block it makes for update_pin_block, under the same zone PIN key.
 */
export const pismoUpdateOfflinePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('update_offline_pin'),
  encryptedPin: compactJwe,
  encryptedPan: compactJwe.optional(),
  /** The script id Pismo gave the issuer when registering its PIN update script. */
  scriptId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -'),
  /** Pismo's account id of the card (its x-account-id header). */
  accountId: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a Pismo account id'),
});

const updatePinBlock = {
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('update_pin_block'),
  syncOfflinePin: z.boolean(),
};

/**
 * The worker builds the ISO 9564 format 0 block from the PIN and the PAN, both sealed to pinflow's PIN
 * key. `pinBlockSource` may be left out: commands published before ISO0 blocks came in have none.
 */
export const pismoUpdatePinBlockFromPinCommand = z.object({
  ...updatePinBlock,
  pinBlockSource: z.literal('pin_and_pan').optional(),
  encryptedPin: compactJwe,
  encryptedPan: compactJwe,
});

/**
 * The block comes made: a clear ISO 9564 format 0 block sealed to pinflow's PIN key (a PIN pushed by
 * Thales D1, which holds the PAN pinflow does not), checked by intake as far as it can be without the PAN.
 */
export const pismoUpdatePinBlockFromIso0Command = z.object({
  ...updatePinBlock,
  pinBlockSource: z.literal('iso0_block'),
  encryptedPinBlock: compactJwe,
});

/**
 * Changes the card's PIN through Pismo's PIN block endpoint: the worker enciphers a format 0 block, of
 * the PIN and the PAN or made by the caller, under the zone PIN key it shares with Pismo.
 */
export const pismoUpdatePinBlockCommand = z.discriminatedUnion('pinBlockSource', [pismoUpdatePinBlockFromPinCommand, pismoUpdatePinBlockFromIso0Command]);

/** Messages on pinflow.commands.pismo.v1. */
export const pismoCommand = z.discriminatedUnion('operation', [
  pismoChangePinCommand,
  pismoIncreasePasswordTriesCommand,
  pismoResetPasswordTriesCommand,
  pismoSyncOfflinePinCommand,
  pismoUpdateOfflinePinCommand,
  pismoUpdatePinBlockCommand,
]);

export type PismoChangePinCommand = z.infer<typeof pismoChangePinCommand>;
export type PismoIncreasePasswordTriesCommand = z.infer<typeof pismoIncreasePasswordTriesCommand>;
export type PismoResetPasswordTriesCommand = z.infer<typeof pismoResetPasswordTriesCommand>;
export type PismoSyncOfflinePinCommand = z.infer<typeof pismoSyncOfflinePinCommand>;
export type PismoUpdateOfflinePinCommand = z.infer<typeof pismoUpdateOfflinePinCommand>;
export type PismoUpdatePinBlockCommand = z.infer<typeof pismoUpdatePinBlockCommand>;
export type PismoUpdatePinBlockFromIso0Command = z.infer<typeof pismoUpdatePinBlockFromIso0Command>;
export type PismoCommand = z.infer<typeof pismoCommand>;

export const pismoChangePinBody = z
  .strictObject({ encryptedPin: compactJwe.optional(), pin: clearSecret.optional(), syncOfflinePin: z.boolean().default(false) })
  .refine(...exactlyOne('encryptedPin', 'pin'));

export const pismoIncreasePasswordTriesBody = z.strictObject({ blockCardExceedsCounter: z.boolean() });

/** A PIN for the chip only, through the issuer's PIN update script registered with Pismo; with the card's PAN, as a PIN block. */
export const pismoUpdateOfflinePinBody = z
  .strictObject({
    encryptedPin: compactJwe.optional(),
    pin: clearSecret.optional(),
    encryptedPan: compactJwe.optional(),
    pan: clearSecret.optional(),
    scriptId: pismoUpdateOfflinePinCommand.shape.scriptId,
    accountId: pismoUpdateOfflinePinCommand.shape.accountId,
  })
  .refine(...exactlyOne('encryptedPin', 'pin'))
  .refine(...atMostOne('encryptedPan', 'pan'));

export const pismoUpdatePinBlockBody = z
  .strictObject({
    encryptedPin: compactJwe.optional(),
    pin: clearSecret.optional(),
    encryptedPan: compactJwe.optional(),
    pan: clearSecret.optional(),
    syncOfflinePin: z.boolean().default(false),
  })
  .refine(...exactlyOne('encryptedPin', 'pin'))
  .refine(...exactlyOne('encryptedPan', 'pan'));

/**
 * Pismo accepts 4 to 6 digits (PUT /cards/{id}/password, https://developers.pismo.io); the weak-PIN
 * checks are pinflow's own policy on top.
 */
export const PISMO_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 6,
  ...WEAK_PIN_POLICY,
};

/** The PAN bound into a format 0 PIN block: a payment card's, 13 to 19 digits (ISO/IEC 7812). */
export const PISMO_PAN_RULES: PanRules = { minLength: 13, maxLength: 19 };

const card = { cardId: { schema: cardIdParam, label: 'card id' } };
const pin = { encryptedPin: { clear: 'pin', kind: 'pin', pinRules: PISMO_PIN_RULES } } as const;
// Bound into the ISO 9564 format 0 block the worker builds: it travels like the PIN.
const pan = { encryptedPan: { clear: 'pan', kind: 'pan', panRules: PISMO_PAN_RULES } } as const;

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
      secrets: { ...pin, encryptedPan: { ...pan.encryptedPan, optional: true } },
      summary: "Write a PIN to a Pismo card's chip only",
      description:
        "Through the issuer's PIN update script registered with Pismo (scriptId) for the card's account (accountId): the chip takes the PIN at its next contact authorization; the online PIN is left alone. The PIN is checked against Pismo's rules and the weak-PIN policy. With the card's PAN (encryptedPan or pan, optional), the PIN reaches Pismo as a PIN block, as for update_pin_block: the ISO 9564 format 0 block of the PIN and the PAN, enciphered under the zone PIN key (ZPK) shared with Pismo, which refuses a block it cannot verify (failure, VENDOR_REJECTED); without one, as the PIN itself. Succeeds with pinflow.card.issuer_script.appended.",
    },
    {
      operation: 'update_pin_block',
      path: 'cards/:cardId/pin-block',
      params: card,
      body: pismoUpdatePinBlockBody,
      secrets: { ...pin, ...pan },
      summary: "Change a Pismo card's PIN through a PIN block",
      description:
        "For issuers whose Pismo set-up takes PINs as PIN blocks only: the worker builds the ISO 9564 format 0 block from the PIN (Pismo's rules, 4–6 digits, and the weak-PIN policy) and the card's PAN, and enciphers it under the zone PIN key (ZPK) shared with Pismo. Succeeds with pinflow.card.password.changed, as a change does; a block Pismo cannot verify fails with VENDOR_REJECTED.",
    },
  ],
});
