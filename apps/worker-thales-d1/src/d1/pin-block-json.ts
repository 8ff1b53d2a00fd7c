import { encodeIso0, encodeIso1 } from '@pinflow/pin-block';

/**
 * The JSON PIN blocks the CMS decrypts. D1 names the two schemas without publishing them; these are
 * the CMS sandbox's (apps/sandbox-thales-d1/README.md, "The JSON PIN block"). Either one gives the
 * PIN away: it lives in memory only, and leaves the worker only as a JWE to the CMS.
 */
export type PinBlockJson = { format: 'ISO0'; pinBlock: string } | { format: '3DES_SECCOS'; pinBlock: string; changeCounter: number };

/** ISO 9564-1 format 0: the PIN bound to the card's PAN. */
export function iso0PinBlock(pin: string, pan: string): PinBlockJson {
  return { format: 'ISO0', pinBlock: encodeIso0(pin, pan) };
}

/**
 * Seccos does not bind the PIN to the PAN but to the card's PIN change counter: a format 1 block
 * (random fill) and the counter it was computed with.
 */
export function seccosPinBlock(pin: string, changeCounter: number): PinBlockJson {
  return { format: '3DES_SECCOS', pinBlock: encodeIso1(pin), changeCounter };
}
