import { randomBytes } from 'node:crypto';
import { PinBlockError } from './errors';
import {
  bytesToNibbles,
  digitsOf,
  isDecimal,
  parseHex,
  pinDigitsOf,
  pinLengthOf,
  requirePin,
  toHex,
  wipe,
} from './nibbles';

export interface Iso1Options {
  /**
   * The `14 - pin.length` hex digits after the PIN: transaction-unique data such as a sequence number, as ISO
   * 9564-1 allows. Random when omitted.
   */
  fill?: string;
}

function fillNibbles(pin: string, fill: string | undefined): number[] {
  const count = 14 - pin.length;
  if (fill === undefined) return bytesToNibbles(randomBytes(8)).slice(0, count);
  if (typeof fill !== 'string' || fill.length !== count || !/^[0-9A-Fa-f]*$/.test(fill)) {
    throw new PinBlockError('INVALID_FILL', 1);
  }
  return Array.from(fill, (digit) => parseInt(digit, 16));
}

/**
 * Encodes an ISO 9564-1 format 1 PIN block, for when no PAN is available: `1 L PIN` followed by fill digits.
 * Returns 16 uppercase hex digits.
 */
export function encodeIso1(pin: string, options: Iso1Options = {}): string {
  requirePin(pin);
  const block = [1, pin.length, ...digitsOf(pin), ...fillNibbles(pin, options.fill)];
  try {
    return toHex(block);
  } finally {
    wipe(block);
  }
}

/** Decodes a clear format 1 PIN block; the fill digits may take any hex value. */
export function decodeIso1(block: string): string {
  const nibbles = parseHex(block, 16, 1);
  try {
    if (nibbles[0] !== 1) throw new PinBlockError('WRONG_FORMAT', 1);
    const length = pinLengthOf(nibbles);
    if (length === undefined || !nibbles.slice(2, 2 + length).every(isDecimal)) {
      throw new PinBlockError('INVALID_BLOCK', 1);
    }
    return pinDigitsOf(nibbles, length);
  } finally {
    wipe(nibbles);
  }
}
