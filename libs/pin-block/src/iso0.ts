import { parseHex, requirePin, wipe } from './nibbles';
import { decodePanBound, encodePanBound, panFreeHeader } from './pan-bound';

const FILL = 0xf;

/**
 * Encodes an ISO 9564-1 format 0 PIN block (ANSI X9.8, VISA-1): `0 L PIN F…F` XOR `0000` + the 12 rightmost
 * PAN digits excluding the check digit. Returns 16 uppercase hex digits, ready for TDES encipherment.
 */
export function encodeIso0(pin: string, pan: string): string {
  requirePin(pin);
  return encodePanBound(0, pin, pan, new Array<number>(14 - pin.length).fill(FILL));
}

/**
 * Decodes a clear format 0 PIN block bound to `pan`; every fill nibble must be F. A PAN_MISMATCH error is best
 * effort: a wrong PAN whose difference falls only on PIN digits that stay decimal is not detectable.
 */
export function decodeIso0(block: string, pan: string): string {
  return decodePanBound(0, block, pan, (nibble) => nibble === FILL);
}

/**
 * The PIN length of a clear format 0 block whose PAN is not at hand, once what can be checked without it
 * holds: control nibble 0, a length of 4 to 12 and two decimal first PIN digits. The other digits and the
 * fill are XORed with the PAN and cannot be checked here: whoever holds the PAN decodes the block.
 */
export function iso0PinLength(block: string): number {
  const nibbles = parseHex(block, 16, 0);
  try {
    return panFreeHeader(0, nibbles);
  } finally {
    wipe(nibbles);
  }
}
