import { Inject, Injectable } from '@nestjs/common';
import { ProblemException } from '@pinflow/http';
import { decryptSecret, encryptSecret, PinDecryptionError, PinKeyRing, SecretKind } from '@pinflow/pin-crypto';
import { checkPan, checkPin, PanRules, PinRules } from '@pinflow/pin-policy';

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

  /** Seals a PIN, passcode or one-time code; a PIN or passcode is checked against the vendor's `rules`. */
  seal(kind: Exclude<SecretKind, 'pan'>, input: SecretInput, rules?: PinRules): Promise<string> {
    return sealSecret(kind, input, this.keyRing, { allowPlaintext: this.config.INTAKE_ALLOW_PLAINTEXT_PIN, refusal: rules && ((value) => pinRefusal(kind, value, rules)) });
  }

  /** Seals a PAN that has the vendor's length and a valid Luhn check digit. */
  sealPan(input: SecretInput, rules: PanRules): Promise<string> {
    return sealSecret('pan', input, this.keyRing, { allowPlaintext: this.config.INTAKE_ALLOW_PLAINTEXT_PIN, refusal: (value) => panRefusal(value, rules) });
  }
}

/**
 * A refused PIN is answered in general terms: the format the vendor takes, or "too easy to guess".
 * Which weak pattern it matched would narrow the PIN down for anyone reading the answer or a log of it.
 */
function pinRefusal(kind: SecretKind, pin: string, rules: PinRules): ProblemException | undefined {
  const verdict = checkPin(pin, rules);
  if (verdict.ok) return undefined;
  return new ProblemException(422, 'PIN_REJECTED', `The ${kind} does not meet the PIN rules`, `${verdict.message}. Choose another one.`, { reason: verdict.reason });
}

function panRefusal(pan: string, rules: PanRules): ProblemException | undefined {
  const verdict = checkPan(pan, rules);
  return verdict.ok ? undefined : new ProblemException(422, 'PAN_INVALID', 'The pan is not well-formed', `${verdict.message}.`);
}

async function sealSecret(
  kind: SecretKind,
  input: SecretInput,
  keyRing: PinKeyRing,
  options: { allowPlaintext: boolean; refusal?: (value: string) => ProblemException | undefined },
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
  const refusal = options.refusal?.(value);
  if (refusal) throw refusal;
  try {
    return await encryptSecret(kind, value, keyRing);
  } catch (error) {
    // A clear value that is not of its kind (a PAN of 5 digits): refused without quoting it.
    if (error instanceof RangeError) throw new ProblemException(422, `${PROBLEM_PREFIX[kind]}_INVALID`, `The ${kind} is not well-formed`);
    throw error;
  }
}
