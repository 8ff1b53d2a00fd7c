import { VendorError } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { decodeFormat0, decodeFormat1, encodeFormat0, encodeFormat1, PinBlockRejected } from './iso9564';

/** The PIN block types of D1's `type` field, spelled as pinflow's Thales D1 command spells them. */
export const PIN_BLOCK_TYPES = ['ISO0', '3DES_SECCOS'] as const;
export type PinBlockType = (typeof PIN_BLOCK_TYPES)[number];

const clearBlock = z.string().regex(/^[0-9A-Fa-f]{16}$/);
const changeCounter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The decrypted value of `encryptedPinBlock`. D1 names the two schemas but does not publish them, so
 * the sandbox defines them:
 * - ISO0: a clear ISO 9564-1 format 0 block, bound to the card's PAN.
 * - 3DES_SECCOS: a clear ISO 9564-1 format 1 block (Seccos derives its PIN reference value from the PIN
 *   and the change counter, not the PAN) and the change counter the block was computed with.
 */
const pinBlockJson = z.discriminatedUnion('format', [
  z.strictObject({ format: z.literal('ISO0'), pinBlock: clearBlock }),
  z.strictObject({ format: z.literal('3DES_SECCOS'), pinBlock: clearBlock, changeCounter }),
]);
export type PinBlockJson = z.infer<typeof pinBlockJson>;

function invalid(message: string): VendorError {
  return new VendorError(400, 'INVALID_PIN_BLOCK', message);
}

/** Reads the decrypted PIN block of a request whose `type` is `type`; errors never quote the plaintext. */
export function parsePinBlockJson(type: PinBlockType, plaintext: string): PinBlockJson {
  let json: unknown;
  try {
    json = JSON.parse(plaintext);
  } catch {
    throw invalid('The decrypted PIN block is not JSON');
  }
  const parsed = pinBlockJson.safeParse(json);
  if (!parsed.success) throw invalid(`The decrypted PIN block does not follow the ${type} schema`);
  if (parsed.data.format !== type) throw invalid('The decrypted PIN block is not of the type the request names');
  return parsed.data;
}

/** The PIN inside the block: 4 to 12 digits, and for ISO0 bound to `pan`. */
export function pinOf(block: PinBlockJson, pan: string): string {
  try {
    return block.format === 'ISO0' ? decodeFormat0(block.pinBlock, pan) : decodeFormat1(block.pinBlock);
  } catch (error) {
    // Its messages name the rule only, never the block, PIN or PAN.
    if (error instanceof PinBlockRejected) throw invalid(error.message);
    throw error;
  }
}

/** The JSON PIN block the CMS answers D1's GET with, the same schema D1 sends. */
export function pinBlockJsonOf(type: PinBlockType, pin: string, pan: string, counter: number): string {
  const block: PinBlockJson =
    type === 'ISO0' ? { format: type, pinBlock: encodeFormat0(pin, pan) } : { format: type, pinBlock: encodeFormat1(pin), changeCounter: counter };
  return JSON.stringify(block);
}
