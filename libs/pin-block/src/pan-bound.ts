import { PinBlockError } from './errors';
import {
  digitsOf,
  isDecimal,
  parseHex,
  pinDigitsOf,
  pinLengthOf,
  requirePan,
  requirePin,
  toHex,
  wipe,
  xorNibbles,
} from './nibbles';

// Formats 0 and 3 share their layout: a PIN field `C L P…P fill…` XORed with the account number field.
// They differ only in the control nibble and in which fill nibbles are allowed.

type PanBoundFormat = 0 | 3;

/**
 * The account number field: four zero nibbles, then the 12 rightmost PAN digits excluding the check digit,
 * left-padded with zeros when the PAN without its check digit is shorter than 12 digits.
 */
export function accountNumberField(pan: string): number[] {
  const withoutCheckDigit = pan.slice(0, -1);
  return [0, 0, 0, 0, ...digitsOf(withoutCheckDigit.slice(-12).padStart(12, '0'))];
}

/** Builds the enciphering-ready block from a PIN, a PAN and exactly `14 - pin.length` fill nibbles. */
export function encodePanBound(format: PanBoundFormat, pin: string, pan: string, fill: readonly number[]): string {
  requirePin(pin);
  requirePan(pan);
  const pinField = [format, pin.length, ...digitsOf(pin), ...fill];
  const block = xorNibbles(pinField, accountNumberField(pan));
  try {
    return toHex(block);
  } finally {
    wipe(pinField, block);
  }
}

/**
 * What a block shows without its PAN: the account number field starts with four zero nibbles, so the
 * control nibble, the PIN length and the first two PIN digits read the same before and after removing it.
 * Gives the PIN length; anything wrong there is the block's fault, never the PAN's.
 */
export function panFreeHeader(format: PanBoundFormat, nibbles: readonly number[]): number {
  if (nibbles[0] !== format) throw new PinBlockError('WRONG_FORMAT', format);
  const length = pinLengthOf(nibbles);
  if (length === undefined || !nibbles.slice(2, 4).every(isDecimal)) throw new PinBlockError('INVALID_BLOCK', format);
  return length;
}

/**
 * Reads the PIN back out. A wrong PAN is caught only when it spoils a PIN digit or a fill nibble; a difference
 * that leaves them valid goes unnoticed (more often with format 3, whose fill is any of A–F).
 */
export function decodePanBound(
  format: PanBoundFormat,
  block: string,
  pan: string,
  isFill: (nibble: number) => boolean,
): string {
  const nibbles = parseHex(block, 16, format);
  requirePan(pan);
  const length = panFreeHeader(format, nibbles);
  const pinField = xorNibbles(nibbles, accountNumberField(pan));
  try {
    const digitsOk = pinField.slice(2, 2 + length).every(isDecimal);
    const fillOk = pinField.slice(2 + length).every(isFill);
    if (!digitsOk || !fillOk) throw new PinBlockError('PAN_MISMATCH', format);
    return pinDigitsOf(pinField, length);
  } finally {
    wipe(nibbles, pinField);
  }
}
