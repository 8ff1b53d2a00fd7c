import { Inject, Injectable } from '@nestjs/common';
import type { Vendor } from '@pinflow/contracts';
import { ProblemException } from '@pinflow/http';
import { decryptSecret, PinDecryptionError, PrivateKeyRingFile, PublicKeyRingFile, sealForCommand, SecretKind } from '@pinflow/pin-crypto';
import { checkPan, checkPin, PanRules, PinRules } from '@pinflow/pin-policy';

/** A secret as the caller sent it: encrypted to pinflow's PIN key, or (where allowed) in clear. */
export interface SecretInput {
  encrypted?: string;
  clear?: string;
}

import { INTAKE_CONFIG, IntakeConfig } from './config';

/** The command a secret is sealed for: only that vendor's worker opens it, only for that card and command. */
export interface SealTarget {
  vendor: Vendor;
  cardId: string;
  commandId: string;
}

/** The public halves of each vendor's command keys: intake seals to them and can open none of them. */
export class CommandKeys {
  constructor(private readonly files: ReadonlyMap<Vendor, PublicKeyRingFile>) {}

  of(vendor: Vendor): PublicKeyRingFile {
    const keys = this.files.get(vendor);
    // Start-up checks that every vendor whose commands carry secrets has a key file: this is a bug.
    if (!keys) throw new Error(`no command key file for ${vendor}`);
    return keys;
  }
}

const PROBLEM_PREFIX: Record<SecretKind, string> = { pin: 'PIN', passcode: 'PASSCODE', pan: 'PAN', oneTimeCode: 'ONE_TIME_CODE', pinBlock: 'PIN_BLOCK' };

/**
 * Turns what the caller sent (sealed to the caller-facing PIN key) into the JWE a command carries. The
 * clear value exists only inside {@link SecretSealer.seal}: long enough to check it (the vendor's PIN
 * rules, when given) and re-seal it to the vendor's current command key, bound to the card, the
 * command and an expiry, so that no other worker, card or command can use it.
 */
@Injectable()
export class SecretSealer {
  constructor(
    private readonly callerKeys: PrivateKeyRingFile,
    private readonly commandKeys: CommandKeys,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** Seals a PIN, passcode or one-time code; a PIN or passcode is checked against the vendor's `rules`. */
  seal(kind: Exclude<SecretKind, 'pan'>, input: SecretInput, rules: PinRules | undefined, target: SealTarget): Promise<string> {
    return this.sealSecret(kind, input, target, rules && ((value) => pinRefusal(kind, value, rules)));
  }

  /** Seals a PAN that has the vendor's length and a valid Luhn check digit. */
  sealPan(input: SecretInput, rules: PanRules, target: SealTarget): Promise<string> {
    return this.sealSecret('pan', input, target, (value) => panRefusal(value, rules));
  }

  /** Seals a secret intake read itself (a PIN block D1 pushed) for the vendor's command, as {@link seal} re-seals a caller's. */
  sealForCommand(kind: SecretKind, value: string, target: SealTarget): Promise<string> {
    return sealForCommand(kind, value, this.commandKeys.of(target.vendor), target, this.config.INTAKE_SEALED_SECRET_TTL_SECONDS);
  }

  private sealSecret(kind: SecretKind, input: SecretInput, target: SealTarget, refusal?: (value: string) => ProblemException | undefined): Promise<string> {
    return sealSecret(kind, input, this.callerKeys, (value) => this.sealForCommand(kind, value, target), {
      allowPlaintext: this.config.INTAKE_ALLOW_PLAINTEXT_PIN,
      refusal,
    });
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
  callerKeys: PrivateKeyRingFile,
  reseal: (value: string) => Promise<string>,
  options: { allowPlaintext: boolean; refusal?: (value: string) => ProblemException | undefined },
): Promise<string> {
  if (input.clear !== undefined && !options.allowPlaintext) {
    throw new ProblemException(400, 'PLAINTEXT_PIN_DISABLED', 'Clear secrets are not accepted', 'Encrypt PINs, passcodes, PANs and codes to the key published at /v1/pin-keys.');
  }
  let value: string;
  try {
    value = input.clear ?? (await decryptSecret(kind, input.encrypted!, callerKeys));
  } catch (error) {
    if (error instanceof PinDecryptionError) {
      throw new ProblemException(400, `${PROBLEM_PREFIX[kind]}_UNDECRYPTABLE`, `The encrypted ${kind} cannot be read`, error.message, { reason: error.code });
    }
    throw error;
  }
  const refusal = options.refusal?.(value);
  if (refusal) throw refusal;
  try {
    return await reseal(value);
  } catch (error) {
    // A clear value that is not of its kind (a PAN of 5 digits): refused without quoting it.
    if (error instanceof RangeError) throw new ProblemException(422, `${PROBLEM_PREFIX[kind]}_INVALID`, `The ${kind} is not well-formed`);
    throw error;
  }
}
