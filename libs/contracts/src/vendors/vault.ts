import { PinRules, WEAK_PIN_POLICY } from '@pinflow/pin-policy';
import { z } from 'zod';
import { clearSecret, commandEnvelope, compactJwe, defineVendor, emptyBody, exactlyOne } from '../vendor-contract';

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

export type VaultSetPasscodeCommand = z.infer<typeof vaultSetPasscodeCommand>;
export type VaultSendVerificationCodeCommand = z.infer<typeof vaultSendVerificationCodeCommand>;
export type VaultCheckVerificationCodeCommand = z.infer<typeof vaultCheckVerificationCodeCommand>;
export type VaultCommand = z.infer<typeof vaultCommand>;

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

/** The one-time code the cardholder typed, to check before setting the passcode with it. */
export const vaultCheckVerificationCodeBody = z
  .strictObject({ encryptedCode: compactJwe.optional(), code: clearSecret.optional() })
  .refine(...exactlyOne('encryptedCode', 'code'));

const INT64_MAX = 2n ** 63n - 1n;
/** Vault card ids are positive int64s; the contract's pattern allows 19 digits up to 9999999999999999999. */
export const vaultCardIdParam = vaultSetPasscodeCommand.shape.cardId
  .refine(
    // zod runs this even when the pattern failed: only a string of digits is judged (and parsable) here.
    (id) => !/^[0-9]+$/.test(id) || BigInt(id) <= INT64_MAX,
    'must be at most 9223372036854775807 (int64)',
  )
  .meta({ description: 'A positive int64: at most 9223372036854775807' });

/**
 * Vault: exactly 4 digits, no more than two identical digits in a row (1122 is fine, 1112 is not);
 * pinflow's weak-PIN checks on top.
 */
export const VAULT_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 4,
  maxRunLength: 2,
  ...WEAK_PIN_POLICY,
};

const card = { cardId: { schema: vaultCardIdParam, label: 'card id' } };
const oneTimeCode = { encryptedCode: { clear: 'code', kind: 'oneTimeCode' } } as const;

export const vault = defineVendor({
  name: 'vault',
  command: vaultCommand,
  pinRules: VAULT_PIN_RULES,
  routes: [
    {
      operation: 'set_passcode',
      path: 'cards/:cardId/passcode',
      params: card,
      body: vaultSetPasscodeBody,
      secrets: { encryptedPasscode: { clear: 'passcode', kind: 'passcode', pinRules: VAULT_PIN_RULES }, ...oneTimeCode },
      summary: "Set a Vault card's passcode",
      description:
        "The passcode (Vault's rules: 4 digits, no more than two identical digits in a row; weak-PIN policy) and the cardholder's one-time code from Vault's SMS step travel encrypted to pinflow's key.",
    },
    {
      operation: 'send_verification_code',
      path: 'cards/:cardId/verification-code',
      params: card,
      body: emptyBody,
      summary: 'Have Vault text the cardholder a one-time code',
      description: 'The code set_passcode needs; a new code replaces any earlier one. Succeeds with pinflow.card.verification_code.sent. No body, or {}.',
    },
    {
      operation: 'check_verification_code',
      path: 'cards/:cardId/verification-code/check',
      params: card,
      body: vaultCheckVerificationCodeBody,
      secrets: oneTimeCode,
      summary: 'Check the one-time code the cardholder typed',
      description:
        "Vault checks it is the latest code texted to the card, unused and unexpired, without using it up: pinflow.card.verification_code.checked, or a failure naming Vault's error (CODE_INVALID, CODE_EXPIRED, CODE_ALREADY_USED). The code travels encrypted to pinflow's key.",
    },
  ],
});
