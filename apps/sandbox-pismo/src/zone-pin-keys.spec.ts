import { ConfigError } from '@pinflow/config';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadZonePinKeys, PISMO_SANDBOX_ZPK } from './zone-pin-keys';

// Pismo's PIN/PINBlock tutorial: PIN 4986 of this PAN under its sandbox ZPK; the clear block is 0449C39FFA87AA6E.
const PAN = '1234560057855917';
const TUTORIAL_BLOCK = 'D04BCCEE7133CF01';
const OTHER_KEY = { keyId: 'issuer-zpk', key: '1F2E3D4C5B6A79880123456789ABCDEF' };

/** Enciphers a clear block written out by hand (format 0 for PAN above unless said otherwise). */
function encipher(clearBlock: string, key = PISMO_SANDBOX_ZPK.key): string {
  const cipher = createCipheriv('des-ede-ecb', Buffer.from(key, 'hex'), null).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.from(clearBlock, 'hex')), cipher.final()]).toString('hex').toUpperCase();
}

describe("the sandbox's zone PIN keys and PIN blocks", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-pismo-zpk-'));
  const keyFile = (content: unknown) => {
    const file = path.join(dir, `${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it("reads Pismo's tutorial block under Pismo's published sandbox key", () => {
    expect(loadZonePinKeys(undefined).read(PISMO_SANDBOX_ZPK.keyId, TUTORIAL_BLOCK, PAN)).toEqual({ pin: '4986' });
  });

  it('holds the key of PISMO_ZPK_FILE besides the published one', () => {
    const keys = loadZonePinKeys(keyFile(OTHER_KEY));
    expect(keys.has(OTHER_KEY.keyId)).toBe(true);
    expect(keys.has(PISMO_SANDBOX_ZPK.keyId)).toBe(true);
    expect(keys.has('another')).toBe(false);
    expect(keys.read(OTHER_KEY.keyId, encipher('0449C39FFA87AA6E', OTHER_KEY.key), PAN)).toEqual({ pin: '4986' });
  });

  it.each([
    ['a block enciphered under another key', encipher('0449C39FFA87AA6E', OTHER_KEY.key), PAN, 'NOT_FORMAT_0'],
    ['a format 1 block', encipher('1449C39FFA87AA6E'), PAN, 'NOT_FORMAT_0'],
    ['a format 3 block', encipher('3449C3CBC897FE5C'), PAN, 'NOT_FORMAT_0'],
    ['a 7-digit PIN, more than Pismo takes', encipher('071271367A87AA6E'), PAN, 'PIN_LENGTH'],
    ["another card's block", TUTORIAL_BLOCK, '1234560057855925', 'PAN_MISMATCH'],
  ])('sets no PIN from %s', (_case, block, pan, problem) => {
    expect(loadZonePinKeys(undefined).read(PISMO_SANDBOX_ZPK.keyId, block, pan)).toEqual({ problem });
  });

  it('refuses to start with a key file it cannot use, never quoting the key', () => {
    const refusal = (file: string) => {
      try {
        loadZonePinKeys(file);
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      throw new Error('accepted');
    };
    expect(refusal(keyFile({ keyId: 'k', key: '1F2E3D4C5B6A7988' }))).toMatch(/PISMO_ZPK_FILE .*key: must be a double- or triple-length TDES key/);
    expect(refusal(keyFile({ keyId: 'k', key: '1F2E3D4C5B6A7988' }))).not.toContain('1F2E3D4C5B6A7988');
    expect(refusal(path.join(dir, 'missing.json'))).toMatch(/cannot be read \(ENOENT\)/);
  });
});
