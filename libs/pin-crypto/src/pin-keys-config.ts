import { z } from 'zod';
import { PinKeyRing } from './pin-key-ring';

/**
 * Where a service finds pinflow's PIN keys: a JWKS file (a mounted secret) or the JWKS itself in an
 * environment variable. Exactly one; checked by {@link loadPinKeyRing} at start-up.
 */
export const pinKeysConfig = {
  PIN_KEYS_FILE: z.string().min(1).optional(),
  PIN_KEYS: z.string().min(1).optional(),
};

export async function loadPinKeyRing(config: { PIN_KEYS_FILE?: string; PIN_KEYS?: string }): Promise<PinKeyRing> {
  if ((config.PIN_KEYS_FILE === undefined) === (config.PIN_KEYS === undefined)) {
    throw new Error('Set exactly one of PIN_KEYS_FILE and PIN_KEYS');
  }
  return config.PIN_KEYS_FILE ? PinKeyRing.fromFile(config.PIN_KEYS_FILE) : PinKeyRing.fromJson(config.PIN_KEYS!, 'PIN_KEYS');
}
