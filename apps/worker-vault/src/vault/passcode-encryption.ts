import { constants, KeyObject, publicEncrypt } from 'node:crypto';

/**
 * How `passCode` is RSA-encrypted. Vault does not document it: RSA-OAEP with SHA-256 (MGF1-SHA-256)
 * is pinflow's choice; SHA-1 OAEP and PKCS#1 v1.5 are there to match Vault should it use either.
 */
export const RSA_PADDINGS = ['oaep-sha256', 'oaep-sha1', 'pkcs1'] as const;
export type RsaPadding = (typeof RSA_PADDINGS)[number];

const PADDING_OPTIONS: Record<RsaPadding, { padding: number; oaepHash?: string }> = {
  'oaep-sha256': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
  'oaep-sha1': { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
  pkcs1: { padding: constants.RSA_PKCS1_PADDING },
};

/** The passcode's digits as UTF-8, encrypted to Vault's public key, base64: `passCode` as Vault takes it. */
export function encryptPasscode(passcode: string, publicKey: KeyObject, padding: RsaPadding): string {
  return publicEncrypt({ key: publicKey, ...PADDING_OPTIONS[padding] }, Buffer.from(passcode, 'utf8')).toString('base64');
}
