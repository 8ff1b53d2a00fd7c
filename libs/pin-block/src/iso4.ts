import { createCipheriv, createDecipheriv, KeyObject, randomBytes } from 'node:crypto';
import { PinBlockError } from './errors';
import {
  bytesToNibbles,
  digitsOf,
  isDecimal,
  nibblesToBytes,
  parseHex,
  pinDigitsOf,
  pinLengthOf,
  requirePan,
  requirePin,
  wipe,
} from './nibbles';

/** An AES PIN key held by the caller: raw bytes or a secret KeyObject of 16, 24 or 32 bytes. */
export type AesKey = Uint8Array | KeyObject;

const FILL = 0xa;
const RANDOM_BYTES = 8;

function aesKeyBytes(key: unknown): number {
  let size: number | undefined;
  if (key instanceof KeyObject) size = key.type === 'secret' ? key.symmetricKeySize : undefined;
  else if (key instanceof Uint8Array) size = key.length;
  if (size !== 16 && size !== 24 && size !== 32) throw new PinBlockError('INVALID_KEY', 4);
  return size;
}

// One AES block in ECB mode is the raw block cipher, which is what ISO 9564-1 format 4 is defined over.
function aes(direction: 'encrypt' | 'decrypt', key: AesKey, block: Buffer): Buffer {
  const algorithm = `aes-${aesKeyBytes(key) * 8}-ecb`;
  const cipher =
    direction === 'encrypt' ? createCipheriv(algorithm, key, null) : createDecipheriv(algorithm, key, null);
  cipher.setAutoPadding(false);
  const parts = [cipher.update(block), cipher.final()];
  try {
    return Buffer.concat(parts);
  } finally {
    wipe(...parts);
  }
}

function xorInPlace(target: Buffer, mask: Buffer): Buffer {
  for (let i = 0; i < target.length; i += 1) target[i] ^= mask[i];
  return target;
}

/**
 * The plain-text PIN field: `4 L PIN A…A` over the first 16 nibbles, then 8 random bytes. Exported for tests
 * that reproduce published vectors; production code goes through {@link encodeIso4}.
 */
export function iso4PinField(pin: string, random: Uint8Array): Buffer {
  requirePin(pin);
  if (random.length !== RANDOM_BYTES) throw new RangeError('format 4 needs exactly 8 random bytes');
  const nibbles = [4, pin.length, ...digitsOf(pin), ...new Array<number>(14 - pin.length).fill(FILL)];
  try {
    return Buffer.concat([nibblesToBytes(nibbles), random]);
  } finally {
    wipe(nibbles);
  }
}

/** The plain-text PAN field: `M` (PAN length − 12), then the whole PAN left-justified, zero-padded to 32 nibbles. */
export function iso4PanField(pan: string): Buffer {
  requirePan(pan);
  const nibbles = [pan.length - 12, ...digitsOf(pan)];
  return nibblesToBytes([...nibbles, ...new Array<number>(32 - nibbles.length).fill(0)]);
}

/**
 * Enciphers a ready-made PIN field: AES_K(AES_K(PIN field) XOR PAN field). Exported for tests that reproduce
 * published vectors with a fixed random part; production code goes through {@link encodeIso4}.
 */
export function encipherIso4PinField(pinField: Buffer, pan: string, key: AesKey): string {
  if (pinField.length !== 16) throw new RangeError('a format 4 PIN field is 16 bytes');
  const panField = iso4PanField(pan);
  aesKeyBytes(key);
  const intermediate = xorInPlace(aes('encrypt', key, pinField), panField);
  try {
    return aes('encrypt', key, intermediate).toString('hex').toUpperCase();
  } finally {
    wipe(intermediate);
  }
}

/**
 * Encodes and enciphers an ISO 9564-1:2017 format 4 PIN block under an AES PIN key (128, 192 or 256 bits).
 * Format 4 is only defined enciphered: the result is 32 uppercase hex digits of ciphertext, and a fresh random
 * part makes every call differ.
 */
export function encodeIso4(pin: string, pan: string, key: AesKey): string {
  requirePin(pin);
  requirePan(pan);
  aesKeyBytes(key);
  const pinField = iso4PinField(pin, randomBytes(RANDOM_BYTES));
  try {
    return encipherIso4PinField(pinField, pan, key);
  } finally {
    wipe(pinField);
  }
}

/** Deciphers and decodes a format 4 PIN block enciphered under `key` and bound to `pan`. */
export function decodeIso4(block: string, pan: string, key: AesKey): string {
  const cipherText = nibblesToBytes(parseHex(block, 32, 4));
  const panField = iso4PanField(pan);
  aesKeyBytes(key);
  const intermediate = xorInPlace(aes('decrypt', key, cipherText), panField);
  const pinField = aes('decrypt', key, intermediate);
  const nibbles = bytesToNibbles(pinField);
  try {
    // A wrong key or PAN turns the whole PIN field into noise, so none of these failures says which input
    // was wrong.
    const length = pinLengthOf(nibbles);
    if (nibbles[0] !== 4 || length === undefined) throw new PinBlockError('DECIPHER_FAILED', 4);
    const digitsOk = nibbles.slice(2, 2 + length).every(isDecimal);
    const fillOk = nibbles.slice(2 + length, 16).every((nibble) => nibble === FILL);
    if (!digitsOk || !fillOk) throw new PinBlockError('DECIPHER_FAILED', 4);
    return pinDigitsOf(nibbles, length);
  } finally {
    wipe(intermediate, pinField, nibbles);
  }
}
