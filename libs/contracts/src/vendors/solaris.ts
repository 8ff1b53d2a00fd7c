import { PinRules } from '@pinflow/pin-policy';
import { z } from 'zod';
import { cardIdParam, commandEnvelope, compactJwe, defineVendor } from '../vendor-contract';

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
export type SolarisChangePinCommand = z.infer<typeof solarisChangePinCommand>;

/** Solaris: what the cardholder's device produced, relayed untouched (pinflow cannot read the PIN). */
export const solarisChangePinBody = z.strictObject({
  deviceId: z.string().min(1).max(128),
  encryptedPin: compactJwe,
  keyId: z.string().min(1).max(256),
  signature: z.string().min(1).max(1024),
  deviceData: z.string().max(8192).optional(),
});

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

export const solaris = defineVendor({
  name: 'solaris',
  command: solarisChangePinCommand,
  pinRules: SOLARIS_PIN_RULES,
  routes: [
    {
      operation: 'change_pin',
      path: 'cards/:cardId/pin',
      params: { cardId: { schema: cardIdParam, label: 'card account id' } },
      body: solarisChangePinBody,
      summary: "Change a Solaris card's PIN",
      description:
        "Relays what the cardholder's device produced: the PIN as a JWE to Solaris' key (see /v1/solaris/pin-key) and the device-binding signature. pinflow cannot read the PIN; Solaris enforces its PIN rules.",
    },
  ],
});
