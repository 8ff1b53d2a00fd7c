import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PrivateKeyRingFile, PublicKeyRingFile } from './key-ring-file';
import { decryptPin, encryptPin } from './pin-jwe';
import { generatePinKeyRing, PinKeyRing, writePinKeyRingFile, writePublicKeyRingFile } from './pin-key-ring';

let dir: string;
let first: PinKeyRing;
let second: PinKeyRing;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'key-ring-file-'));
  [first, second] = await Promise.all([generatePinKeyRing(), generatePinKeyRing()]);
});

afterEach(() => opened.splice(0).forEach((file) => file.close()));
afterAll(() => rm(dir, { recursive: true, force: true }));

// Reloads happen on demand in these tests: the interval is far longer than any test.
const options = { reloadIntervalMs: 3_600_000 };

async function openPrivate(file: string): Promise<PrivateKeyRingFile> {
  const keys = await PrivateKeyRingFile.open(file, options);
  opened.push(keys);
  return keys;
}

async function privateFile(name: string, ring: PinKeyRing): Promise<{ file: string; keys: PrivateKeyRingFile }> {
  const file = path.join(dir, name);
  await writePinKeyRingFile(file, ring);
  return { file, keys: await openPrivate(file) };
}

const inAnHour = () => new Date(Date.now() + 3_600_000);

describe('PrivateKeyRingFile', () => {
  it('decrypts with the keys of its file and serves their public halves', async () => {
    const { keys } = await privateFile('open.json', first);

    expect(await decryptPin(await encryptPin('8264', first), keys)).toBe('8264');
    expect(keys.publicJwks()).toEqual(first.publicJwks());
  });

  it.each([
    ['a missing file', undefined, /^Cannot read key file .*absent\.json: ENOENT$/],
    ['a file that is not JSON', 'not json', /^Invalid key file .*absent\.json: not valid JSON$/],
    ['a JWKS without keys', '{"keys":[]}', /^Invalid key file .*absent\.json: jwks\.keys: /],
  ])('refuses to start on %s, naming the file', async (_, content, message) => {
    const file = path.join(dir, 'absent.json');
    await rm(file, { force: true });
    if (content !== undefined) await writeFile(file, content);

    await expect(PrivateKeyRingFile.open(file, options)).rejects.toThrow(message);
  });

  it('takes up a rotated file without a restart and still opens secrets sealed to the retired keys until their notAfter, as a pod started after the rotation does', async () => {
    const { file, keys } = await privateFile('rotated.json', first);
    const sealedBefore = await encryptPin('8264', keys);

    await writePinKeyRingFile(file, await first.withSuccessor(second, inAnHour()));
    await keys.reload();
    const restarted = await openPrivate(file);

    expect(keys.currentPublicJwk.kid).toBe(second.currentKid);
    expect(await decryptPin(await encryptPin('5173', keys), keys)).toBe('5173');
    expect(await decryptPin(sealedBefore, keys)).toBe('8264');
    expect(await decryptPin(sealedBefore, restarted)).toBe('8264');
  });

  it('stops opening secrets sealed to a retired key once its notAfter is past, in every pod alike', async () => {
    const { file, keys } = await privateFile('expired.json', first);
    const sealedBefore = await encryptPin('8264', keys);

    await writePinKeyRingFile(file, await first.withSuccessor(second, new Date(Date.now() + 200)));
    await keys.reload();
    const restarted = await openPrivate(file);
    await new Promise((resolve) => setTimeout(resolve, 300));

    await expect(decryptPin(sealedBefore, keys)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    await expect(decryptPin(sealedBefore, restarted)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('stops opening secrets sealed to a key removed from the file at once, as for a leaked key', async () => {
    const { file, keys } = await privateFile('leaked.json', first);
    const sealedBefore = await encryptPin('8264', keys);

    await writePinKeyRingFile(file, second);
    await keys.reload();

    await expect(decryptPin(sealedBefore, keys)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('reads the file again for a secret sealed to a kid it does not hold yet', async () => {
    const { file, keys } = await privateFile('unknown-kid.json', first);
    await writePinKeyRingFile(file, second);
    // The lookup of an unknown kid rereads the file at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    expect(await decryptPin(await encryptPin('8264', second), keys)).toBe('8264');
  });

  it('keeps its keys when the rewritten file is broken, and reports why', async () => {
    const errors: string[] = [];
    const file = path.join(dir, 'broken.json');
    await writePinKeyRingFile(file, first);
    const keys = await PrivateKeyRingFile.open(file, { ...options, onReloadError: (error) => errors.push(error.message) });
    opened.push(keys);

    await writeFile(file, '{"keys":[{"kty":"RSA"}]}');
    await keys.reload();

    expect(keys.currentPublicJwk.kid).toBe(first.currentKid);
    expect(errors).toEqual([expect.stringMatching(/^Invalid key file .*broken\.json: jwks\.keys\.0\./)]);
  });
});

describe('PublicKeyRingFile', () => {
  it('seals to the current public key of its file, which only the private ring opens', async () => {
    const file = path.join(dir, 'public.json');
    await writePublicKeyRingFile(file, first);
    const keys = await PublicKeyRingFile.open(file, options);
    opened.push(keys);

    expect(await decryptPin(await encryptPin('8264', keys), first)).toBe('8264');
  });

  it('refuses a file holding private keys, which a sealing service must never hold', async () => {
    const file = path.join(dir, 'private-as-public.json');
    await writePinKeyRingFile(file, first);

    await expect(PublicKeyRingFile.open(file, options)).rejects.toThrow(/^Invalid public key file .*: jwks\.keys\.0: must be a public key/);
  });

  it('takes up a rotated public key on reload', async () => {
    const file = path.join(dir, 'public-rotated.json');
    await writePublicKeyRingFile(file, first);
    const keys = await PublicKeyRingFile.open(file, options);
    opened.push(keys);

    await writePublicKeyRingFile(file, second);
    await keys.reload();

    expect(keys.currentPublicJwk.kid).toBe(second.currentKid);
  });
});
