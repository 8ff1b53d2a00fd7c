import { decodeIso1, iso0PinLength, PinBlockError } from '@pinflow/pin-block';
import { compactDecrypt, decodeProtectedHeader, importJWK, type CryptoKey } from 'jose';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { D1Error } from './d1-errors';

// D1's convention for sensitive data: compact JWE, ECDH-ES on P-256, A256GCM, the recipient's key named by `kid`.
const D1_JWE_ALG = 'ECDH-ES';
const D1_JWE_ENC = 'A256GCM';

/** The PIN block types of D1's `type`, spelled as the CMS sandbox and worker-thales-d1 spell them. */
export const PIN_BLOCK_TYPES = ['ISO0', '3DES_SECCOS'] as const;
export type PinBlockType = (typeof PIN_BLOCK_TYPES)[number];

/** The body of D1's PUT .../pin, exactly as D1 declares it. */
export const setPinBody = z.strictObject({ type: z.enum(PIN_BLOCK_TYPES), encryptedPinBlock: z.string().min(1).max(8192) });
export type SetPinBody = z.output<typeof setPinBody>;

/**
 * What a push carries once decrypted, in memory only: a 3DES_SECCOS block's PIN and the change counter
 * it was computed with, or an ISO0 block as D1 made it (uppercase), bound to a PAN pinflow does not hold.
 */
export type D1Push = { type: '3DES_SECCOS'; pin: string; changeCounter: number } | { type: 'ISO0'; pinBlock: string; pinLength: number };

const clearBlock = z.string().regex(/^[0-9A-Fa-f]{16}$/);

/**
 * The decrypted JSON PIN block. D1 names the schemas without publishing them; these are the ones
 * pinflow's CMS sandbox defines (apps/sandbox-thales-d1/README.md, "The JSON PIN block").
 */
const pinBlockJson = z.discriminatedUnion('format', [
  z.strictObject({ format: z.literal('ISO0'), pinBlock: clearBlock }),
  z.strictObject({ format: z.literal('3DES_SECCOS'), pinBlock: clearBlock, changeCounter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
]);

const privateP256Jwk = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), kid: z.string().min(1).max(128), x: z.string(), y: z.string(), d: z.string() });
const keyFile = z.union([privateP256Jwk.transform((key) => [key]), z.object({ keys: z.array(privateP256Jwk).min(1) }).transform(({ keys }) => keys)]);

const invalidJwe = () => new D1Error(400, 'INVALID_ENCRYPTED_PIN_BLOCK', `encryptedPinBlock must be a compact ${D1_JWE_ALG}/${D1_JWE_ENC} JWE to one of the issuer's keys, untampered`);
const invalidBlock = (message: string) => new D1Error(400, 'INVALID_PIN_BLOCK', message);

/**
 * pinflow's P-256 keys that D1 encrypts PIN blocks to (their public halves are handed to Thales at
 * onboarding). Several may be held while one replaces another; a JWE names its key by `kid`.
 */
export class D1EncryptionKeys {
  private constructor(private readonly keys: ReadonlyMap<string, CryptoKey>) {}

  /** Reads a JWK or JWKS of P-256 private keys; refuses to start without a usable one. */
  static async load(file: string): Promise<D1EncryptionKeys> {
    const parsed = keyFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new Error('D1_INBOUND_ENCRYPTION_KEY_FILE must hold a P-256 private JWK with a kid, or a JWKS of them');
    const keys = new Map<string, CryptoKey>();
    for (const jwk of parsed.data) keys.set(jwk.kid, (await importJWK({ ...jwk, alg: D1_JWE_ALG }, D1_JWE_ALG)) as CryptoKey);
    return new D1EncryptionKeys(keys);
  }

  /**
   * D1's encrypted PIN block of `type`, in memory only; refusals never quote what D1 sent. An ISO0
   * block is the PIN XOR the card's PAN, and D1's call carries no PAN (the path's cardId is D1's "unique
   * identifier of the card", the only header x-correlation-id, and D1 names the decrypted "PIN Block
   * ISO0" schema without publishing a PAN field: ../shared/specs/thales-d1-pin-management.md): it is
   * checked as far as it reads without the PAN (iso0PinLength) and kept as a block.
   */
  async read({ type, encryptedPinBlock }: SetPinBody): Promise<D1Push> {
    const block = this.parse(type, await this.decrypt(encryptedPinBlock));
    try {
      if (block.format === 'ISO0') {
        return { type: 'ISO0', pinBlock: block.pinBlock.toUpperCase(), pinLength: iso0PinLength(block.pinBlock) };
      }
      return { type: '3DES_SECCOS', pin: decodeIso1(block.pinBlock), changeCounter: block.changeCounter };
    } catch (error) {
      // PinBlockError messages name the rule only, never the block or PIN.
      if (error instanceof PinBlockError) throw invalidBlock(error.message);
      throw error;
    }
  }

  private async decrypt(jwe: string): Promise<string> {
    let kid: unknown;
    try {
      if (jwe.split('.').length !== 5) throw new Error('not compact');
      kid = decodeProtectedHeader(jwe).kid;
    } catch {
      throw invalidJwe();
    }
    const key = typeof kid === 'string' ? this.keys.get(kid) : undefined;
    if (!key) throw invalidJwe();
    try {
      const { plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [D1_JWE_ALG], contentEncryptionAlgorithms: [D1_JWE_ENC], maxDecompressedLength: 0 });
      return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    } catch {
      throw invalidJwe();
    }
  }

  private parse(type: PinBlockType, plaintext: string): z.output<typeof pinBlockJson> {
    let json: unknown;
    try {
      json = JSON.parse(plaintext);
    } catch {
      throw invalidBlock('The decrypted PIN block is not JSON');
    }
    const parsed = pinBlockJson.safeParse(json);
    if (!parsed.success) throw invalidBlock(`The decrypted PIN block does not follow the ${type} schema`);
    if (parsed.data.format !== type) throw invalidBlock('The decrypted PIN block is not of the type the request names');
    return parsed.data;
  }
}
