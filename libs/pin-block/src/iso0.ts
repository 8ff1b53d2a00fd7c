import { requirePin } from './nibbles';
import { decodePanBound, encodePanBound } from './pan-bound';

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
