import { ConfigError, loadJsonFile } from '@pinflow/config';
import { encipherTdes, encodeIso0, PinBlockError } from '@pinflow/pin-block';
import { createSecretKey, KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * PISMO_ZPK_FILE: the zone PIN key Pismo's security team hands the issuer, and the id Pismo knows it
 * by. Pismo enciphers PIN blocks with triple DES; its sandbox's key is double length.
 */
const zpkFile = z.strictObject({
  keyId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -'),
  key: z.string().regex(/^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{48})$/, 'must be a double- or triple-length TDES key: 32 or 48 hex digits'),
});

/**
 * The key PIN blocks for Pismo are enciphered under. It never leaves this object: the PIN blocks it
 * makes carry its id only.
 */
export class ZonePinKey {
  readonly #key: KeyObject;

  constructor(
    readonly keyId: string,
    key: KeyObject,
  ) {
    this.#key = key;
  }

  /** The ISO 9564 format 0 block of `pin` bound to `pan`, enciphered: 16 uppercase hex digits, as Pismo's tutorial shows them. */
  pinBlock(pin: string, pan: string): string {
    return this.encipher(encodeIso0(pin, pan));
  }

  /** A clear format 0 block made elsewhere (D1's, read by intake), enciphered as {@link pinBlock} enciphers its own. */
  encipher(clearIso0Block: string): string {
    return encipherTdes(clearIso0Block, this.#key);
  }
}

/**
 * Reads and checks the zone PIN key at start-up, refusing to start (ConfigError) on anything but a
 * usable TDES key with an id. Messages name the rule, never the file's content.
 */
export function loadZonePinKey(file: string): ZonePinKey {
  const { keyId, key } = loadJsonFile('worker-pismo', 'PISMO_ZPK_FILE', file, zpkFile);
  const zpk = new ZonePinKey(keyId, createSecretKey(Buffer.from(key, 'hex')));
  try {
    // Enciphering once is what tells a key triple DES refuses (equal components make it single DES).
    zpk.pinBlock('0000', '0000000000000');
  } catch (error) {
    if (error instanceof PinBlockError) throw new ConfigError('worker-pismo', [`PISMO_ZPK_FILE (${file}): key: its components must differ (equal ones reduce triple DES to single DES)`]);
    throw error;
  }
  return zpk;
}
