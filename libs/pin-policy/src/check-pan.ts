/** What a vendor takes as a PAN (ISO/IEC 7812 card number): its length range; the Luhn check digit always applies. */
export interface PanRules {
  readonly minLength: number;
  readonly maxLength: number;
}

/** The ISO/IEC 7812-1 (Luhn) check: from the right, every second digit doubled, digits summed, total a multiple of 10. */
export function hasValidCheckDigit(digits: string): boolean {
  let sum = 0;
  for (let fromRight = 0; fromRight < digits.length; fromRight += 1) {
    const digit = Number(digits[digits.length - 1 - fromRight]);
    const weighted = fromRight % 2 === 1 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return sum % 10 === 0;
}

export type PanCheckResult = { ok: true } | { ok: false; message: string };

/** Checks a PAN's digits, length and check digit. The message never contains the PAN. */
export function checkPan(pan: string, { minLength, maxLength }: PanRules): PanCheckResult {
  const wellFormed = /^[0-9]*$/.test(pan) && pan.length >= minLength && pan.length <= maxLength && hasValidCheckDigit(pan);
  return wellFormed ? { ok: true } : { ok: false, message: `PAN must be ${minLength} to ${maxLength} digits with a valid Luhn check digit` };
}
