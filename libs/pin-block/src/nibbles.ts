import { PinBlockError } from './errors';
import type { PinBlockFormat } from './format';

// Internal helpers. PIN blocks are handled as arrays of 4-bit values, which keeps the layout of the
// standard (one nibble per digit) visible in the code and lets callers wipe them after use.

const PIN_PATTERN = /^[0-9]{4,12}$/;
const PAN_PATTERN = /^[0-9]{12,19}$/;

export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 12;

export function requirePin(pin: unknown): string {
  if (typeof pin !== 'string' || !PIN_PATTERN.test(pin)) throw new PinBlockError('INVALID_PIN');
  return pin;
}

export function requirePan(pan: unknown): string {
  if (typeof pan !== 'string' || !PAN_PATTERN.test(pan)) throw new PinBlockError('INVALID_PAN');
  return pan;
}

export function digitsOf(value: string): number[] {
  return Array.from(value, (digit) => digit.charCodeAt(0) - 0x30);
}

/** Parses `nibbleCount` hexadecimal digits (either case) into nibbles. */
export function parseHex(block: unknown, nibbleCount: number, format?: PinBlockFormat): number[] {
  if (typeof block !== 'string' || block.length !== nibbleCount || !/^[0-9A-Fa-f]+$/.test(block)) {
    throw new PinBlockError('INVALID_BLOCK', format);
  }
  return Array.from(block, (digit) => parseInt(digit, 16));
}

export function toHex(nibbles: readonly number[]): string {
  return nibbles.map((nibble) => nibble.toString(16)).join('').toUpperCase();
}

export function xorNibbles(a: readonly number[], b: readonly number[]): number[] {
  return a.map((nibble, i) => nibble ^ b[i]);
}

export function nibblesToBytes(nibbles: readonly number[]): Buffer {
  const bytes = Buffer.alloc(nibbles.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1];
  return bytes;
}

export function bytesToNibbles(bytes: Uint8Array): number[] {
  return Array.from(bytes).flatMap((byte) => [byte >> 4, byte & 0x0f]);
}

/** Overwrites buffers that held PIN digits, so they do not linger in memory until collected. */
export function wipe(...buffers: (number[] | Uint8Array)[]): void {
  for (const buffer of buffers) buffer.fill(0);
}

/** The PIN length nibble, or undefined if it is outside 4..12. */
export function pinLengthOf(nibbles: readonly number[]): number | undefined {
  const length = nibbles[1];
  return length >= MIN_PIN_LENGTH && length <= MAX_PIN_LENGTH ? length : undefined;
}

export function isDecimal(nibble: number): boolean {
  return nibble <= 9;
}

/** Reads the PIN digits that follow the control and length nibbles. */
export function pinDigitsOf(nibbles: readonly number[], length: number): string {
  return nibbles
    .slice(2, 2 + length)
    .map((digit) => String.fromCharCode(0x30 + digit))
    .join('');
}
