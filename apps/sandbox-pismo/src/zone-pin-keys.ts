import { loadJsonFile } from '@pinflow/config';
import { createDecipheriv } from 'node:crypto';
import { z } from 'zod';

// Pismo's side of PIN blocks, written here and nowhere else: the sandbox checks what worker-pismo's
// PIN-block code makes, so it must not run that code (or share its mistakes).

/**
 * The zone PIN key Pismo's sandbox uses for everyone, as its OpenAPI and PIN/PINBlock tutorial publish
 * it: the sandbox holds it too, so Pismo's own examples work here.
 */
export const PISMO_SANDBOX_ZPK = { keyId: '7d14ca2e-1057-11ee-8cee-060f666de710', key: '0404F2543B1C6E70AB61586E1304B6A7' };

/** Why a PIN block sets no PIN. */
export type PinBlockProblem =
  /** Not an ISO 9564 format 0 block once deciphered: another format, or a block enciphered under another key. */
  | 'NOT_FORMAT_0'
  /** A well-formed block whose PIN is not 4 to 6 digits, which Pismo takes. */
  | 'PIN_LENGTH'
  /** Its PIN digits or fill do not come out of the card's PAN: a block made for another card (or malformed). */
  | 'PAN_MISMATCH';

export type PinBlockReading = { pin: string } | { problem: PinBlockProblem };

const zpkFile = z.strictObject({
  keyId: z.string().min(1).max(64),
  key: z.string().regex(/^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{48})$/, 'must be a double- or triple-length TDES key: 32 or 48 hex digits'),
});

const PIN_LENGTHS = { min: 4, max: 6 };

function nibbles(bytes: Buffer): number[] {
  return [...bytes].flatMap((byte) => [byte >> 4, byte & 0xf]);
}

/** `0000` and the 12 rightmost PAN digits without the check digit: what a format 0 PIN field is XORed with. */
function panField(pan: string): number[] {
  const digits = pan.slice(0, -1).slice(-12).padStart(12, '0');
  return [0, 0, 0, 0, ...Array.from(digits, Number)];
}

/** The zone PIN keys PIN blocks may be enciphered under, by the key id a caller names. */
export class ZonePinKeys {
  private readonly keys = new Map<string, Buffer>();

  constructor(entries: readonly { keyId: string; key: string }[]) {
    for (const { keyId, key } of entries) this.keys.set(keyId, Buffer.from(key, 'hex'));
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** The PIN in `pinBlock` (16 hex digits), enciphered under `keyId`'s key as format 0 for `pan`, or why there is none. */
  read(keyId: string, pinBlock: string, pan: string): PinBlockReading {
    const key = this.keys.get(keyId);
    // Callers check has() first (403 UNKNOWN_KEY); the message is fixed and names no key id, block or PAN.
    if (!key) throw new Error('read a PIN block under a key the sandbox does not hold');
    const decipher = createDecipheriv(key.length === 16 ? 'des-ede-ecb' : 'des-ede3-ecb', key, null).setAutoPadding(false);
    const clear = Buffer.concat([decipher.update(Buffer.from(pinBlock, 'hex')), decipher.final()]);
    const account = panField(pan);
    const field = nibbles(clear).map((nibble, index) => nibble ^ account[index]);
    clear.fill(0);
    try {
      const length = field[1];
      if (field[0] !== 0 || length < 4 || length > 12) return { problem: 'NOT_FORMAT_0' };
      if (length < PIN_LENGTHS.min || length > PIN_LENGTHS.max) return { problem: 'PIN_LENGTH' };
      const digits = field.slice(2, 2 + length);
      if (!digits.every((nibble) => nibble <= 9) || !field.slice(2 + length).every((nibble) => nibble === 0xf)) return { problem: 'PAN_MISMATCH' };
      return { pin: digits.join('') };
    } finally {
      field.fill(0);
    }
  }
}

/** Pismo's sandbox key, and the one in PISMO_ZPK_FILE (`{keyId, key}`, as worker-pismo reads it) if set; checked at start-up. */
export function loadZonePinKeys(file: string | undefined): ZonePinKeys {
  if (file === undefined) return new ZonePinKeys([PISMO_SANDBOX_ZPK]);
  return new ZonePinKeys([PISMO_SANDBOX_ZPK, loadJsonFile('sandbox-pismo', 'PISMO_ZPK_FILE', file, zpkFile)]);
}
