import { PISMO_PIN_RULES, PinRules, checkPin } from '@pinflow/pin-policy';
import { decryptPin, encryptPin, PinDecryptionError, PinKeyRing } from '@pinflow/pin-crypto';
import { ProblemException } from '@pinflow/http';

/** PIN rules per vendor, checked before anything is published. */
export const VENDOR_PIN_RULES: Record<'pismo', PinRules> = { pismo: PISMO_PIN_RULES };

/**
 * Turns what the caller sent into the JWE the command carries. The clear PIN exists only inside this
 * function: long enough to check the vendor's rules and re-encrypt to pinflow's current key.
 */
export async function sealPin(
  input: { encryptedPin?: string; pin?: string },
  rules: PinRules,
  keyRing: PinKeyRing,
  allowPlaintext: boolean,
): Promise<string> {
  if (input.pin !== undefined && !allowPlaintext) {
    throw new ProblemException(400, 'PLAINTEXT_PIN_DISABLED', 'Clear PINs are not accepted', 'Encrypt the PIN to the key published at /v1/pin-keys and send it as encryptedPin.');
  }
  let pin: string;
  try {
    pin = input.pin ?? (await decryptPin(input.encryptedPin!, keyRing));
  } catch (error) {
    if (error instanceof PinDecryptionError) {
      throw new ProblemException(400, 'PIN_UNDECRYPTABLE', 'The encrypted PIN cannot be read', error.message, { reason: error.code });
    }
    throw error;
  }
  const verdict = checkPin(pin, rules);
  if (!verdict.ok) {
    throw new ProblemException(422, 'PIN_REJECTED', 'The PIN does not meet the PIN rules', 'Choose another PIN.', { violations: verdict.violations });
  }
  return encryptPin(pin, keyRing);
}
