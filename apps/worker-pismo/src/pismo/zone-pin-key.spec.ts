import { ConfigError } from '@pinflow/config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadZonePinKey } from './zone-pin-key';

// Pismo's PIN/PINBlock tutorial: its sandbox's fixed ZPK, and the block it gives for PIN 4986 of that PAN.
const PISMO_SANDBOX_ZPK = '0404F2543B1C6E70AB61586E1304B6A7';
const TUTORIAL = { pan: '1234560057855917', pin: '4986', pinBlock: 'D04BCCEE7133CF01' };

describe('the zone PIN key (PISMO_ZPK_FILE)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pismo-zpk-'));
  const file = (content: unknown) => {
    const at = path.join(dir, `${Math.random()}.json`);
    writeFileSync(at, typeof content === 'string' ? content : JSON.stringify(content));
    return at;
  };
  const refusal = (at: string): ConfigError => {
    try {
      loadZonePinKey(at);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('the key was accepted');
  };

  it("makes Pismo's own example block: ISO 9564 format 0 under the ZPK, uppercase hex", () => {
    const zpk = loadZonePinKey(file({ keyId: '7d14ca2e-1057-11ee-8cee-060f666de710', key: PISMO_SANDBOX_ZPK }));
    expect(zpk.keyId).toBe('7d14ca2e-1057-11ee-8cee-060f666de710');
    expect(zpk.pinBlock(TUTORIAL.pin, TUTORIAL.pan)).toBe(TUTORIAL.pinBlock);
  });

  it('binds the block to the PAN: the same PIN gives another block for another card', () => {
    const zpk = loadZonePinKey(file({ keyId: 'zpk-1', key: PISMO_SANDBOX_ZPK }));
    expect(zpk.pinBlock(TUTORIAL.pin, '1234560057855925')).not.toBe(TUTORIAL.pinBlock);
  });

  it.each([
    ['a key that is not hex of a TDES length', { keyId: 'zpk-1', key: '0404F2543B1C6E70' }, /key: must be a double- or triple-length TDES key/],
    ['a key whose halves are equal (single DES)', { keyId: 'zpk-1', key: '0404F2543B1C6E700404F2543B1C6E70' }, /key: its components must differ/],
    ['a file without a key id', { key: PISMO_SANDBOX_ZPK }, /keyId: /],
    ['a file that is not JSON', 'not json', /is not JSON/],
  ])('refuses to start with %s, never quoting the key', (_case, content, problem) => {
    const error = refusal(file(content));
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain('0404F2543B1C6E70');
  });

  it('refuses a file it cannot read', () => {
    expect(refusal(path.join(dir, 'missing.json')).message).toMatch(/PISMO_ZPK_FILE \(.*missing\.json\): cannot be read \(ENOENT\)/);
  });
});
