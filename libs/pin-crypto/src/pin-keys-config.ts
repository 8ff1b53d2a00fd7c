import { removedSetting } from '@pinflow/config';
import { z } from 'zod';
import { type KeyRingFileOptions, PrivateKeyRingFile } from './key-ring-file';

const positiveInt = z.coerce.number().int().positive();

/** How every key file is kept fresh: read again on this interval (a key's retirement is its `notAfter` in the file). */
export const keyFilesConfig = {
  KEYS_RELOAD_INTERVAL_MS: positiveInt.default(10_000),
  KEYS_GRACE_PERIOD_SECONDS: removedSetting('write "notAfter" (ISO 8601) on the retiring key in the key file instead'),
};

/** intake's caller-facing PIN key ring: a JWKS of private keys (a mounted Secret), served at /v1/pin-keys. */
export const pinKeysConfig = { PIN_KEYS_FILE: z.string().min(1), ...keyFilesConfig };

/** A vendor worker's own command key ring: a JWKS of private keys that intake seals the command's secrets to. */
export const commandKeysConfig = { COMMAND_KEYS_FILE: z.string().min(1), ...keyFilesConfig };

type KeyFilesSettings = { KEYS_RELOAD_INTERVAL_MS: number };

export function keyRingFileOptions(config: KeyFilesSettings, log: { warn(fields: object, message: string): void; info(fields: object, message: string): void }): KeyRingFileOptions {
  return {
    reloadIntervalMs: config.KEYS_RELOAD_INTERVAL_MS,
    onReloadError: (error) => log.warn({ error: error.message }, 'a key file could not be reloaded: the keys read before stay in use'),
    onReload: (file, kids) => log.info({ file, kids }, 'key file reloaded'),
  };
}

/** The Nest token of a worker's command keys ({@link DecryptionKeys}): its adapter opens the command's secrets with them. */
export const COMMAND_KEYS = Symbol('COMMAND_KEYS');

/** A worker's command key ring, validated now: a start-up with a missing or broken file fails, naming it. */
export function openCommandKeys(config: { COMMAND_KEYS_FILE: string } & KeyFilesSettings, log: Parameters<typeof keyRingFileOptions>[1]): Promise<PrivateKeyRingFile> {
  return PrivateKeyRingFile.open(config.COMMAND_KEYS_FILE, keyRingFileOptions(config, log));
}
