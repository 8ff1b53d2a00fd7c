import { PanRules, PinRules, WEAK_PIN_POLICY } from '@pinflow/pin-policy';
import { z } from 'zod';
import { clearSecret, commandEnvelope, compactJwe, defineVendor, exactlyOne } from '../vendor-contract';

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
export type ThalesD1ChangePinCommand = z.infer<typeof thalesD1ChangePinCommand>;

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

export const thalesD1CardIdParam = thalesD1ChangePinCommand.shape.cardId;
/** D1 issuer ids are 10 characters; the contract checks only the length. */
export const thalesD1IssuerIdParam = thalesD1ChangePinCommand.shape.issuerId.regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');

/**
 * A card management system behind Thales D1 takes what an ISO 9564 PIN block can carry: 4 to 12
 * digits; pinflow's weak-PIN checks on top.
 */
export const THALES_D1_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 12,
  ...WEAK_PIN_POLICY,
};

/** Thales D1 PIN Management takes PANs of 13 to 19 digits, as ISO/IEC 7812 allows for payment cards. */
export const THALES_D1_PAN_RULES: PanRules = { minLength: 13, maxLength: 19 };

export const thalesD1 = defineVendor({
  name: 'thales-d1',
  command: thalesD1ChangePinCommand,
  pinRules: THALES_D1_PIN_RULES,
  routes: [
    {
      operation: 'change_pin',
      path: 'issuers/:issuerId/cards/:cardId/pin',
      params: { issuerId: { schema: thalesD1IssuerIdParam, label: 'issuer id' }, cardId: { schema: thalesD1CardIdParam, label: 'card id' } },
      body: thalesD1ChangePinBody,
      secrets: {
        encryptedPin: { clear: 'pin', kind: 'pin', pinRules: THALES_D1_PIN_RULES },
        // The PAN goes into the ISO 9564 format-0 PIN block the worker builds: it travels like the PIN.
        encryptedPan: { clear: 'pan', kind: 'pan', panRules: THALES_D1_PAN_RULES },
      },
      summary: "Push a PIN to a card management system speaking Thales D1's PIN Management API",
      description: "PIN (4–12 digits, weak-PIN policy) and PAN (for the ISO 9564 format-0 PIN block) travel encrypted to pinflow's key.",
    },
  ],
});
