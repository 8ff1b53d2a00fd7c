import { randomInt } from 'node:crypto';
import { requirePin } from './nibbles';
import { decodePanBound, encodePanBound } from './pan-bound';

function isFill(nibble: number): boolean {
  return nibble >= 0xa && nibble <= 0xf;
}

/**
 * Format 3 with the fill nibbles given as hex letters A–F. Not exported from the package: a fixed fill defeats
 * the point of format 3, and this exists only to reproduce published test vectors.
 */
export function encodeIso3WithFill(pin: string, pan: string, fill: string): string {
  requirePin(pin);
  const nibbles = Array.from(fill, (digit) => parseInt(digit, 16));
  if (nibbles.length !== 14 - pin.length || !nibbles.every(isFill)) throw new RangeError('format 3 fill must be A-F');
  return encodePanBound(3, pin, pan, nibbles);
}

/**
 * Encodes an ISO 9564-1 format 3 PIN block: format 0's layout with control nibble 3 and fill nibbles drawn at
 * random from A–F, so the same PIN and PAN give a different block on every call.
 */
export function encodeIso3(pin: string, pan: string): string {
  requirePin(pin);
  const fill = Array.from({ length: 14 - pin.length }, () => randomInt(0xa, 0x10));
  return encodePanBound(3, pin, pan, fill);
}

/**
 * Decodes a clear format 3 PIN block bound to `pan`; every fill nibble must be A–F. A PAN_MISMATCH error is
 * best effort: a wrong PAN is missed whenever the PIN digits and fill it produces still look valid.
 */
export function decodeIso3(block: string, pan: string): string {
  return decodePanBound(3, block, pan, isFill);
}
