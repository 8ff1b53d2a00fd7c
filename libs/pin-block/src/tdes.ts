import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';
import { PinBlockError } from './errors';
import { nibblesToBytes, parseHex, wipe } from './nibbles';

/** A triple-DES PIN key held by the caller: double length (16 bytes, K1K2K1) or triple length (24 bytes). */
export type TdesKey = Uint8Array | KeyObject;

function tdesAlgorithm(key: unknown): string {
  let bytes: Buffer | undefined;
  if (key instanceof KeyObject && key.type === 'secret') bytes = key.export();
  else if (key instanceof Uint8Array) bytes = Buffer.from(key);
  try {
    if (bytes?.length !== 16 && bytes?.length !== 24) throw new PinBlockError('INVALID_KEY');
    // Equal neighbouring components collapse triple DES into single DES.
    const [k1, k2, k3] = [bytes.subarray(0, 8), bytes.subarray(8, 16), bytes.subarray(16)];
    if (k1.equals(k2) || (k3.length > 0 && k2.equals(k3))) throw new PinBlockError('INVALID_KEY');
    return bytes.length === 16 ? 'des-ede-ecb' : 'des-ede3-ecb';
  } finally {
    if (bytes) wipe(bytes);
  }
}

function tdes(direction: 'encrypt' | 'decrypt', block: string, key: TdesKey): string {
  const input = nibblesToBytes(parseHex(block, 16));
  const algorithm = tdesAlgorithm(key);
  const cipher =
    direction === 'encrypt' ? createCipheriv(algorithm, key, null) : createDecipheriv(algorithm, key, null);
  cipher.setAutoPadding(false);
  const parts = [cipher.update(input), cipher.final()];
  try {
    return Buffer.concat(parts).toString('hex').toUpperCase();
  } finally {
    wipe(input, ...parts);
  }
}

/**
 * Enciphers an 8-byte clear PIN block (format 0, 1 or 3, as 16 hex digits) under a triple-DES PIN key, as a
 * terminal or HSM would before the block travels. Returns 16 uppercase hex digits.
 */
export function encipherTdes(clearBlock: string, key: TdesKey): string {
  return tdes('encrypt', clearBlock, key);
}

/** Deciphers a TDES-enciphered PIN block back to its clear form, to be read with the matching decode function. */
export function decipherTdes(encipheredBlock: string, key: TdesKey): string {
  return tdes('decrypt', encipheredBlock, key);
}
