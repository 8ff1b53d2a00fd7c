import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevSigningKey, mintToken } from '@pinflow/auth';
import { generatePinKeyRing, PinKeyRing, writePinKeyRingFile } from '@pinflow/pin-crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface DevSecrets {
  pinKeysFile: string;
  pinKeyRing: PinKeyRing;
  authPublicKeyFile: string;
  /** A token from the local dev issuer, as a caller of intake or audit would present. */
  token(scopes: string[], options?: { subject?: string; tenant?: string; expiresIn?: string }): Promise<string>;
}

/**
 * Keys for a local platform: pinflow's PIN key ring and a token signing key, created on first use
 * and kept in the state directory so that restarts (and `npm run token`) keep working. Production
 * deployments bring their own (PIN_KEYS_FILE from a secret store, AUTH_JWKS_URL from their issuer).
 */
export async function loadOrCreateDevSecrets(stateDir: string): Promise<DevSecrets> {
  const pinKeysFile = path.join(stateDir, 'pin-keys.json');
  let pinKeyRing: PinKeyRing;
  if (existsSync(pinKeysFile)) {
    pinKeyRing = await PinKeyRing.fromFile(pinKeysFile);
  } else {
    pinKeyRing = await generatePinKeyRing();
    await writePinKeyRingFile(pinKeysFile, pinKeyRing);
  }
  const { key, publicKeyFile } = await loadOrCreateDevSigningKey(path.join(stateDir, 'dev-signing-key.json'));
  return {
    pinKeysFile,
    pinKeyRing,
    authPublicKeyFile: publicKeyFile,
    token: (scopes, options = {}) =>
      mintToken({
        privateKey: key.privateJwk,
        kid: key.kid,
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        subject: options.subject ?? 'pinflow-dev-caller',
        tenant: options.tenant,
        scopes,
        expiresIn: options.expiresIn ?? '15m',
      }),
  };
}
