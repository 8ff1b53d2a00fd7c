import { Inject, Injectable } from '@nestjs/common';
import { ProblemException } from '@pinflow/http';
import { decryptSecret, encryptSecret, PinDecryptionError, PinKeyRing, SecretKind } from '@pinflow/pin-crypto';
import { checkPin, PinRules } from '@pinflow/pin-policy';

/** A secret as the caller sent it: encrypted to pinflow's PIN key, or (where allowed) in clear. */
export interface SecretInput {
  encrypted?: string;
  clear?: string;
}

import { INTAKE_CONFIG, IntakeConfig } from './config';

const PROBLEM_PREFIX: Record<SecretKind, string> = { pin: 'PIN', passcode: 'PASSCODE', pan: 'PAN', oneTimeCode: 'ONE_TIME_CODE' };

/**
 * Turns what the caller sent into the JWE a command carries. The clear value exists only inside
 * {@link SecretSealer.seal}: long enough to check it (the vendor's PIN rules, when given) and
 * re-encrypt it to pinflow's current key, so old keys can retire and workers see one kind of JWE.
 */
@Injectable()
export class SecretSealer {
  constructor(
    private readonly keyRing: PinKeyRing,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  seal(kind: SecretKind, input: SecretInput, rules?: PinRules): Promise<string> {
    return sealSecret(kind, input, this.keyRing, { allowPlaintext: this.config.INTAKE_ALLOW_PLAINTEXT_PIN, rules });
  }
}

async function sealSecret(
  kind: SecretKind,
  input: SecretInput,
  keyRing: PinKeyRing,
  options: { allowPlaintext: boolean; rules?: PinRules },
): Promise<string> {
  if (input.clear !== undefined && !options.allowPlaintext) {
    throw new ProblemException(400, 'PLAINTEXT_PIN_DISABLED', 'Clear secrets are not accepted', 'Encrypt PINs, passcodes, PANs and codes to the key published at /v1/pin-keys.');
  }
  let value: string;
  try {
    value = input.clear ?? (await decryptSecret(kind, input.encrypted!, keyRing));
  } catch (error) {
    if (error instanceof PinDecryptionError) {
      throw new ProblemException(400, `${PROBLEM_PREFIX[kind]}_UNDECRYPTABLE`, `The encrypted ${kind} cannot be read`, error.message, { reason: error.code });
    }
    throw error;
  }
  if (options.rules) {
    const verdict = checkPin(value, options.rules);
    if (!verdict.ok) {
      throw new ProblemException(422, 'PIN_REJECTED', `The ${kind} does not meet the PIN rules`, 'Choose another one.', { violations: verdict.violations });
    }
  }
  try {
    return await encryptSecret(kind, value, keyRing);
  } catch (error) {
    // A clear value that is not of its kind (a PAN of 5 digits): refused without quoting it.
    if (error instanceof RangeError) throw new ProblemException(422, `${PROBLEM_PREFIX[kind]}_INVALID`, `The ${kind} is not well-formed`);
    throw error;
  }
}
