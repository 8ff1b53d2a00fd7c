import { PinBlockError } from './errors';
import { PIN_BLOCK_FORMATS, type ClearPinBlockFormat, type PinBlockFormat } from './format';
import { decodeIso0, encodeIso0 } from './iso0';
import { decodeIso1, encodeIso1 } from './iso1';
import { decodeIso3, encodeIso3 } from './iso3';
import { decodeIso4, encodeIso4, type AesKey } from './iso4';
import { parseHex } from './nibbles';

/**
 * A PIN block and its format. `block` is uppercase hex: 16 digits for the clear formats 0, 1 and 3, 32 digits
 * of AES ciphertext for format 4. A clear block gives the PIN away (format 1 to anyone, formats 0 and 3 to
 * anyone who also has the PAN), so treat it as the PIN itself: never log, persist or publish it.
 */
export interface PinBlock {
  readonly format: PinBlockFormat;
  readonly block: string;
}

/** What decoding or encoding needs besides the block: the PAN (formats 0, 3, 4) and the AES PIN key (format 4). */
export interface PinBlockContext {
  pan?: string;
  aesKey?: AesKey;
}

/**
 * Tells the format of a clear 8-byte PIN block from its control nibble. Format 4 blocks are AES ciphertext and
 * cannot be recognised; anything else (including format 2) is a WRONG_FORMAT error.
 */
export function detectFormat(block: string): ClearPinBlockFormat {
  const control = parseHex(block, 16)[0];
  if (control === 0 || control === 1 || control === 3) return control;
  throw new PinBlockError('WRONG_FORMAT');
}

function requireFormat(format: unknown): PinBlockFormat {
  if (!PIN_BLOCK_FORMATS.includes(format as PinBlockFormat)) throw new PinBlockError('WRONG_FORMAT');
  return format as PinBlockFormat;
}

function requireAesKey(context: PinBlockContext): AesKey {
  if (context.aesKey === undefined) throw new PinBlockError('INVALID_KEY', 4);
  return context.aesKey;
}

/** Encodes a PIN in the given format, with random fill where the format has any. */
export function encodePinBlock(format: PinBlockFormat, pin: string, context: PinBlockContext = {}): PinBlock {
  // A missing PAN is validated like a malformed one, as INVALID_PAN.
  const pan = context.pan ?? '';
  switch (requireFormat(format)) {
    case 0:
      return { format, block: encodeIso0(pin, pan) };
    case 1:
      return { format, block: encodeIso1(pin) };
    case 3:
      return { format, block: encodeIso3(pin, pan) };
    case 4:
      return { format, block: encodeIso4(pin, pan, requireAesKey(context)) };
  }
}

/** Decodes a PIN block of any supported format, with the PAN and key its format needs. */
export function decodePinBlock(pinBlock: PinBlock, context: PinBlockContext = {}): string {
  const pan = context.pan ?? '';
  switch (requireFormat(pinBlock.format)) {
    case 0:
      return decodeIso0(pinBlock.block, pan);
    case 1:
      return decodeIso1(pinBlock.block);
    case 3:
      return decodeIso3(pinBlock.block, pan);
    case 4:
      return decodeIso4(pinBlock.block, pan, requireAesKey(context));
  }
}
