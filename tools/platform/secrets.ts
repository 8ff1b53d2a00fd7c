import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevSigningKey, mintToken } from '@pinflow/auth';
import type { Vendor } from '@pinflow/contracts';
import { MessageKeyFiles, writeMessageKeyFiles } from '@pinflow/kafka';
import { generatePinKeyRing, PinKeyRing, writePinKeyRingFile, writePublicKeyRingFile } from '@pinflow/pin-crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { VENDOR_PLATFORMS } from './vendors';

/** A private key ring kept in a file of the state directory. */
export interface DevKeyRing {
  /** The private JWKS: intake's PIN_KEYS_FILE, or a worker's COMMAND_KEYS_FILE. */
  file: string;
  ring: PinKeyRing;
}

/** A vendor's command key ring, and the public half intake seals to. */
export interface DevCommandKeyRing extends DevKeyRing {
  publicFile: string;
}

export interface DevSecrets {
  /** The caller-facing PIN key ring (intake only), served at /v1/pin-keys. */
  pinKeysFile: string;
  pinKeyRing: PinKeyRing;
  /** Each vendor's command key ring, for vendors whose workers open sealed secrets. */
  commandKeys: Partial<Record<Vendor, DevCommandKeyRing>>;
  authPublicKeyFile: string;
  /** intake's and each worker's message signing key, and everyone's public ones (the trusted signers). */
  messageKeys: MessageKeyFiles;
  /** A token from the local dev issuer, as a caller of intake or audit would present. */
  token(scopes: string[], options?: { subject?: string; tenant?: string; expiresIn?: string }): Promise<string>;
}

async function loadOrCreateRing(file: string): Promise<PinKeyRing> {
  if (existsSync(file)) return PinKeyRing.fromFile(file);
  const ring = await generatePinKeyRing();
  await writePinKeyRingFile(file, ring);
  return ring;
}

/** How long a rotated-out key keeps decrypting: longer than any command waits before it runs. */
const RETIRED_KEY_LIFETIME_MS = 86_400_000;

/**
 * A fresh key becomes the current one in the ring's file(s), as an operator rotates a Secret, and the
 * keys it replaces are retired (notAfter) a day later; services pick it up without a restart.
 */
export async function rotateDevKeyRing(keys: DevKeyRing | DevCommandKeyRing): Promise<PinKeyRing> {
  const ring = await (await PinKeyRing.fromFile(keys.file)).withSuccessor(await generatePinKeyRing(), new Date(Date.now() + RETIRED_KEY_LIFETIME_MS));
  // The worker's private ring first: intake seals to a new key only once its owner can open it.
  await writePinKeyRingFile(keys.file, ring);
  if ('publicFile' in keys) await writePublicKeyRingFile(keys.publicFile, ring);
  return ring;
}

/**
 * Keys for a local platform: intake's caller-facing PIN key ring, a command key ring per vendor
 * worker that opens sealed secrets (with its public half for intake), a message signing key for
 * intake and each worker (with everyone's public ones in one signers file), and a token signing key,
 * created on first use and kept in the state directory so that restarts (and `npm run token`) keep
 * working. Production deployments bring their own (mounted Secrets, AUTH_JWKS_URL from their issuer).
 */
export async function loadOrCreateDevSecrets(stateDir: string): Promise<DevSecrets> {
  const pinKeysFile = path.join(stateDir, 'pin-keys.json');
  const pinKeyRing = await loadOrCreateRing(pinKeysFile);
  const commandKeys: DevSecrets['commandKeys'] = {};
  for (const platform of VENDOR_PLATFORMS.filter((candidate) => candidate.workerReadsPinKeys)) {
    const vendor = platform.contract.name;
    const file = path.join(stateDir, 'command-keys', `${vendor}.json`);
    const publicFile = path.join(stateDir, 'command-keys', `${vendor}.public.json`);
    const ring = await loadOrCreateRing(file);
    await writePublicKeyRingFile(publicFile, ring);
    commandKeys[vendor] = { file, publicFile, ring };
  }
  const { key, publicKeyFile } = await loadOrCreateDevSigningKey(path.join(stateDir, 'dev-signing-key.json'));
  return {
    pinKeysFile,
    pinKeyRing,
    commandKeys,
    authPublicKeyFile: publicKeyFile,
    messageKeys: writeMessageKeyFiles(path.join(stateDir, 'message-keys')),
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
