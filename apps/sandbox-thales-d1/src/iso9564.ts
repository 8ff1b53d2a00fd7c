import { randomInt } from 'node:crypto';

/*
 * The ISO 9564-1 formats a card management system reads, written for the sandbox from the standard
 * itself rather than taken from @pinflow/pin-block: the sandbox checks the blocks worker-thales-d1
 * builds with that library, and a simulator sharing the code under test could not catch its bugs.
 * Every error names the rule only, never a block, PIN or PAN.
 */

const BLOCK = /^[0-9A-Fa-f]{16}$/;

export class PinBlockRejected extends Error {
  override readonly name = 'PinBlockRejected';
}

function nibblesOf(block: string): number[] {
  if (!BLOCK.test(block)) throw new PinBlockRejected('a PIN block is 16 hex digits');
  return Array.from(block, (digit) => parseInt(digit, 16));
}

const hex = (nibbles: number[]) => nibbles.map((nibble) => nibble.toString(16).toUpperCase()).join('');

/** `0000` and the 12 rightmost PAN digits before the check digit, as format 0 XORs them in. */
function panField(pan: string): number[] {
  if (!/^[0-9]{13,19}$/.test(pan)) throw new PinBlockRejected('the card has no PAN a format 0 block can be bound to');
  return [0, 0, 0, 0, ...Array.from(pan.slice(-13, -1), Number)];
}

/** `C L P…P`, the PIN's length and digits, and what fills the rest, checked by `fillOk`. */
function pinOfField(field: number[], format: number, fillOk: (nibble: number) => boolean): string {
  if (field[0] !== format) throw new PinBlockRejected(`the block is not format ${format}`);
  const length = field[1];
  if (length < 4 || length > 12) throw new PinBlockRejected('the PIN length is not 4 to 12');
  const digits = field.slice(2, 2 + length);
  if (!digits.every((digit) => digit <= 9)) throw new PinBlockRejected('the PIN holds a digit that is not decimal');
  if (!field.slice(2 + length).every(fillOk)) throw new PinBlockRejected('the fill is not the format’s');
  return digits.join('');
}

function pinField(format: number, pin: string, fill: () => number): number[] {
  return [format, pin.length, ...Array.from(pin, Number), ...Array.from({ length: 14 - pin.length }, fill)];
}

/** Format 0: the PIN field (filled with F) XOR the PAN field. */
export function decodeFormat0(block: string, pan: string): string {
  const field = nibblesOf(block).map((nibble, index) => nibble ^ panField(pan)[index]);
  return pinOfField(field, 0, (nibble) => nibble === 0xf);
}

export function encodeFormat0(pin: string, pan: string): string {
  const pad = panField(pan);
  return hex(pinField(0, pin, () => 0xf).map((nibble, index) => nibble ^ pad[index]));
}

/** Format 1: the PIN field alone, any fill (Seccos takes no PAN). */
export function decodeFormat1(block: string): string {
  return pinOfField(nibblesOf(block), 1, () => true);
}

export function encodeFormat1(pin: string): string {
  return hex(pinField(1, pin, () => randomInt(16)));
}
