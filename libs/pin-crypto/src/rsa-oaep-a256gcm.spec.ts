import { generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, errors } from 'jose';
import { generatePinKeyRing, PinKeyRing } from './pin-key-ring';
import { CompactJweError, openRsaOaepA256Gcm, sealRsaOaepA256Gcm } from './rsa-oaep-a256gcm';

// jose is the reference: what one seals the other opens, and a JWE one refuses the other refuses for the same reason.

const PLAINTEXT = '{"pin":"8264"}';
const HEADER = { alg: 'RSA-OAEP-256', enc: 'A256GCM' };

let ring: PinKeyRing;
let otherRing: PinKeyRing;

beforeAll(async () => {
  [ring, otherRing] = await Promise.all([generatePinKeyRing(), generatePinKeyRing()]);
});

const privateKey = (keyRing: PinKeyRing) => keyRing.decryptionKey(keyRing.currentKid)!;
const seal = (header: Record<string, unknown> = HEADER) => sealRsaOaepA256Gcm({ ...header, kid: ring.currentKid }, Buffer.from(PLAINTEXT), ring.currentPublicJwk);

function pinflowVerdict(jwe: string, keyRing = ring): string {
  try {
    return openRsaOaepA256Gcm(jwe, privateKey(keyRing)).toString();
  } catch (error) {
    if (error instanceof CompactJweError) return error.code;
    throw error;
  }
}

async function joseVerdict(jwe: string, keyRing = ring): Promise<string> {
  try {
    return new TextDecoder().decode((await compactDecrypt(jwe, privateKey(keyRing))).plaintext);
  } catch (error) {
    if (error instanceof errors.JWEDecryptionFailed) return 'DECRYPTION_FAILED';
    if (error instanceof errors.JWEInvalid) return 'MALFORMED';
    throw error;
  }
}

/** The JWE with one of its five parts replaced. */
function withPart(jwe: string, index: number, part: string | Buffer): string {
  const parts = jwe.split('.');
  parts[index] = typeof part === 'string' ? part : part.toString('base64url');
  return parts.join('.');
}

function flipFirstCharacter(part: string): string {
  return (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
}

describe('the RSA-OAEP-256 / A256GCM compact JWE on node:crypto', () => {
  it('is opened by jose, header and all', async () => {
    const jwe = seal({ ...HEADER, pinflow_card: 'card-1' });

    const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey(ring));

    expect(new TextDecoder().decode(plaintext)).toBe(PLAINTEXT);
    expect(protectedHeader).toEqual({ ...HEADER, kid: ring.currentKid, pinflow_card: 'card-1' });
  });

  it('opens what jose seals', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode(PLAINTEXT)).setProtectedHeader(HEADER).encrypt(ring.currentPublicJwk);

    expect(pinflowVerdict(jwe)).toBe(PLAINTEXT);
  });

  it('seals each time under a fresh content key and IV', () => {
    const [first, second] = [seal(), seal()].map((jwe) => jwe.split('.'));

    expect(first[1]).not.toBe(second[1]);
    expect(first[2]).not.toBe(second[2]);
    expect(first[3]).not.toBe(second[3]);
  });

  const refusals: Array<{ name: string; jwe: () => string; keyRing?: () => PinKeyRing; expected: string }> = [
    { name: 'another key', jwe: () => seal(), keyRing: () => otherRing, expected: 'DECRYPTION_FAILED' },
    { name: 'an edited protected header', jwe: () => withPart(seal(), 0, Buffer.from(JSON.stringify({ ...HEADER, kid: 'other' }))), expected: 'DECRYPTION_FAILED' },
    { name: 'an edited encrypted key', jwe: () => withPart(seal(), 1, flipFirstCharacter(seal().split('.')[1])), expected: 'DECRYPTION_FAILED' },
    { name: 'an encrypted key from another JWE', jwe: () => withPart(seal(), 1, seal().split('.')[1]), expected: 'DECRYPTION_FAILED' },
    { name: 'an edited ciphertext', jwe: () => withPart(seal(), 3, flipFirstCharacter(seal().split('.')[3])), expected: 'DECRYPTION_FAILED' },
    { name: 'an edited tag', jwe: () => withPart(seal(), 4, Buffer.alloc(16)), expected: 'DECRYPTION_FAILED' },
    { name: 'a 64-bit IV', jwe: () => withPart(seal(), 2, Buffer.alloc(8)), expected: 'MALFORMED' },
    { name: 'a 96-bit tag', jwe: () => withPart(seal(), 4, Buffer.alloc(12)), expected: 'MALFORMED' },
    { name: 'no tag', jwe: () => withPart(seal(), 4, ''), expected: 'MALFORMED' },
    { name: 'no IV', jwe: () => withPart(seal(), 2, ''), expected: 'MALFORMED' },
    { name: 'no encrypted key', jwe: () => withPart(seal(), 1, ''), expected: 'DECRYPTION_FAILED' },
    { name: 'a part that is not base64url', jwe: () => withPart(seal(), 3, 'a+b/c='), expected: 'MALFORMED' },
  ];

  it.each(refusals)('refuses $name as $expected, as jose does', async ({ jwe, keyRing = () => ring, expected }) => {
    const token = jwe();

    expect(pinflowVerdict(token, keyRing())).toBe(expected);
    expect(await joseVerdict(token, keyRing())).toBe(expected);
  });

  it('names neither the plaintext nor the JWE when it refuses one', () => {
    const jwe = withPart(seal(), 4, Buffer.alloc(16));
    let refusal: unknown;
    try {
      openRsaOaepA256Gcm(jwe, privateKey(ring));
    } catch (error) {
      refusal = error;
    }

    expect(refusal).toBeInstanceOf(CompactJweError);
    for (const rendered of [String(refusal), (refusal as Error).stack ?? '', JSON.stringify(refusal)]) {
      expect(rendered).not.toContain('8264');
      expect(rendered).not.toContain(jwe);
    }
  });

  it('will not seal to an RSA key under 2048 bits, as jose will not', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as { kty: 'RSA'; n: string; e: string };

    expect(() => sealRsaOaepA256Gcm(HEADER, Buffer.from(PLAINTEXT), small)).toThrow(TypeError);
  });
});
