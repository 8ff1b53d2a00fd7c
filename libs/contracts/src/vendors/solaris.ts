import { PinRules } from '@pinflow/pin-policy';
import { z } from 'zod';
import { cardIdParam, clearSecret, commandEnvelope, compactJwe, defineVendor, exactlyOne } from '../vendor-contract';

/** A device-binding signature, as the device made it. */
const deviceSignature = z.string().min(1).max(1024);

/**
 * Messages on pinflow.commands.solaris.v1. The PIN was encrypted on the cardholder's device to
 * Solaris' key and signed with the device-binding key: pinflow relays both untouched and can never
 * read the PIN.
 */
const deviceMade = {
  deviceId: z.string().min(1).max(128),
  encryptedPin: compactJwe,
  /** Solaris' PIN key the device encrypted to. */
  keyId: z.string().min(1).max(256),
  /** The device's signature over `encryptedPin`. */
  signature: deviceSignature,
  deviceData: z.string().max(8192).optional(),
};

/** Solaris' person ids: 32 hex digits and a type suffix; readable test ids too. */
const personId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -');

/** Solaris' change request ids end up in its URL (`/v1/change_requests/{id}/confirm`): held to a strict charset. */
export const changeRequestIdParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -');

/**
 * How the cardholder confirms a change request: a TAN Solaris texts them (`mobile_number`), or their
 * bound device signing Solaris' `string_to_sign` (`device_signing`, the device that made the PIN).
 */
export const SOLARIS_DELIVERY_METHODS = ['mobile_number', 'device_signing'] as const;


export const solarisChangePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('solaris'),
  operation: z.literal('change_pin'),
  ...deviceMade,
});
export type SolarisChangePinCommand = z.infer<typeof solarisChangePinCommand>;

/**
 * Step one of Solaris' strong-customer-authentication variant: the device-made change as a change
 * request, authorized at once so Solaris texts the cardholder a TAN. Nothing changes until step two.
 */
export const solarisChangePinRequestCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('solaris'),
  operation: z.literal('change_pin_request'),
  ...deviceMade,
  personId,
  deliveryMethod: z.enum(SOLARIS_DELIVERY_METHODS),
});
export type SolarisChangePinRequestCommand = z.infer<typeof solarisChangePinRequestCommand>;

/** Step two names the change request step one's event named, and the person confirming it. */
const changeRequestStep = { ...commandEnvelope, vendor: z.literal('solaris'), changeRequestId: changeRequestIdParam, personId };

/** Step two: the TAN the cardholder received, encrypted to pinflow's PIN key, confirms the change request. */
export const solarisConfirmChangeRequestCommand = z.object({
  ...changeRequestStep,
  operation: z.literal('confirm_change_request'),
  encryptedTan: compactJwe,
});
export type SolarisConfirmChangeRequestCommand = z.infer<typeof solarisConfirmChangeRequestCommand>;

/** Step two by device signing: the bound device's signature over the change request's `string_to_sign`. */
export const solarisSignChangeRequestCommand = z.object({
  ...changeRequestStep,
  operation: z.literal('sign_change_request'),
  signature: deviceSignature,
});
export type SolarisSignChangeRequestCommand = z.infer<typeof solarisSignChangeRequestCommand>;

export const solarisCommand = z.discriminatedUnion('operation', [
  solarisChangePinCommand,
  solarisChangePinRequestCommand,
  solarisConfirmChangeRequestCommand,
  solarisSignChangeRequestCommand,
]);
export type SolarisCommand = z.infer<typeof solarisCommand>;

/** Solaris: what the cardholder's device produced, relayed untouched (pinflow cannot read the PIN). */
export const solarisChangePinBody = z.strictObject({
  deviceId: z.string().min(1).max(128),
  encryptedPin: compactJwe,
  keyId: z.string().min(1).max(256),
  signature: z.string().min(1).max(1024),
  deviceData: z.string().max(8192).optional(),
});

/** The same device-made change, and the person and delivery method Solaris' change request wants. */
export const solarisChangePinRequestBody = solarisChangePinBody.extend({
  personId,
  deliveryMethod: z.enum(SOLARIS_DELIVERY_METHODS).default('mobile_number'),
});

/** The TAN Solaris texted the cardholder: encrypted to pinflow's key, or in clear where a deployment allows it. */
export const solarisConfirmChangeRequestBody = z
  .strictObject({ personId, encryptedTan: compactJwe.optional(), tan: clearSecret.optional() })
  .refine(...exactlyOne('encryptedTan', 'tan'));

/** The device's signature over the `stringToSign` that pinflow.pin_change.confirmation_required carried. */
export const solarisSignChangeRequestBody = z.strictObject({ personId, signature: deviceSignature });

/**
 * Solaris: exactly 4 digits, no sequence, no digit three times or more. Solaris enforces them (pinflow
 * never sees the PIN); the device, and pinflow's test scenarios, choose PINs that pass.
 */
export const SOLARIS_PIN_RULES: PinRules = {
  minLength: 4,
  maxLength: 4,
  forbidSequences: true,
  maxRepeatsOfDigit: 2,
};

const card = { cardId: { schema: cardIdParam, label: 'card account id' } };

export const solaris = defineVendor({
  name: 'solaris',
  command: solarisCommand,
  pinRules: SOLARIS_PIN_RULES,
  routes: [
    {
      operation: 'change_pin',
      path: 'cards/:cardId/pin',
      params: card,
      body: solarisChangePinBody,
      summary: "Change a Solaris card's PIN",
      description:
        "Relays what the cardholder's device produced: the PIN as a JWE to Solaris' key (see /v1/solaris/pin-key) and the device-binding signature. pinflow cannot read the PIN; Solaris enforces its PIN rules.",
    },
    {
      operation: 'change_pin_request',
      path: 'cards/:cardId/pin/change-requests',
      params: card,
      body: solarisChangePinRequestBody,
      summary: "Ask Solaris to change a card's PIN once the cardholder confirms (SCA)",
      description:
        "Step one of Solaris' change request: the same device-made JWE and signature as change_pin, with the cardholder's person id. Solaris checks them and texts the cardholder a TAN (deliveryMethod mobile_number, the default) or hands a string for the device to sign (device_signing); pinflow.pin_change.confirmation_required names the change request to confirm (and the stringToSign). The PIN changes only when confirmed.",
    },
    {
      operation: 'confirm_change_request',
      path: 'cards/:cardId/pin/change-requests/:changeRequestId/confirm',
      params: { ...card, changeRequestId: { schema: changeRequestIdParam, label: 'change request id' } },
      body: solarisConfirmChangeRequestBody,
      secrets: { encryptedTan: { clear: 'tan', kind: 'oneTimeCode' } },
      summary: "Confirm a Solaris PIN change request with the cardholder's TAN",
      description:
        "Step two: the TAN Solaris texted the cardholder, encrypted to pinflow's key. Solaris applies the PIN: pinflow.card.password.changed; a wrong TAN or an expired change request fails with Solaris' error (invalid_tan, change_request_expired).",
    },
    {
      operation: 'sign_change_request',
      path: 'cards/:cardId/pin/change-requests/:changeRequestId/signature',
      params: { ...card, changeRequestId: { schema: changeRequestIdParam, label: 'change request id' } },
      body: solarisSignChangeRequestBody,
      summary: 'Confirm a Solaris PIN change request with the device’s signature',
      description:
        "Step two when the change request was made with deliveryMethod device_signing: the bound device's signature (as for change_pin) over the stringToSign of pinflow.pin_change.confirmation_required. Solaris applies the PIN: pinflow.card.password.changed, or a failure (invalid_signature, change_request_expired).",
    },
  ],
});
