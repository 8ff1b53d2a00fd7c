import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decryptPin, encryptPin } from './pin-jwe';
import { generatePinKeyRing, PinKeyRing, writePinKeyRingFile } from './pin-key-ring';
import { loadPinKeyRing } from './pin-keys-config';

let dir: string;
let ring: PinKeyRing;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pin-keys-config-'));
  ring = await generatePinKeyRing();
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadPinKeyRing', () => {
  it('loads the ring from PIN_KEYS_FILE', async () => {
    const file = path.join(dir, 'pin-keys.json');
    await writePinKeyRingFile(file, ring);

    const loaded = await loadPinKeyRing({ PIN_KEYS_FILE: file });

    expect(await decryptPin(await encryptPin('8264', ring), loaded)).toBe('8264');
  });

  it('loads the ring from the JSON in PIN_KEYS', async () => {
    const loaded = await loadPinKeyRing({ PIN_KEYS: JSON.stringify(ring.toPrivateJwks()) });

    expect(await decryptPin(await encryptPin('8264', ring), loaded)).toBe('8264');
  });

  it('names PIN_KEYS when its content is invalid', async () => {
    await expect(loadPinKeyRing({ PIN_KEYS: '{"keys":[]}' })).rejects.toThrow(/^Invalid PIN_KEYS: jwks\.keys: /);
  });

  it.each([
    ['neither variable', {}],
    ['both variables', { PIN_KEYS_FILE: 'pin-keys.json', PIN_KEYS: '{"keys":[]}' }],
  ])('refuses %s', async (_, config) => {
    await expect(loadPinKeyRing(config)).rejects.toThrow('Set exactly one of PIN_KEYS_FILE and PIN_KEYS');
  });
});
