import { PISMO_PIN_RULES } from '@pinflow/contracts';
import { ProblemException } from '@pinflow/http';
import { decryptSecret, encryptPin, generatePinKeyRing, PinKeyRing, PrivateKeyRingFile, PublicKeyRingFile, writePinKeyRingFile, writePublicKeyRingFile } from '@pinflow/pin-crypto';
import { decodeProtectedHeader } from 'jose';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IntakeConfig } from './config';
import { CommandKeys, SecretSealer } from './secrets';

describe('SecretSealer', () => {
  const target = { vendor: 'pismo' as const, cardId: 'card-1', commandId: '6a0d3f55-8a43-4c3b-a1f6-2d1b0c9e7f10' };
  const options = { reloadIntervalMs: 3_600_000 };
  let dir: string;
  let callerRing: PinKeyRing;
  let pismoRing: PinKeyRing;
  let files: { close(): void }[];
  let sealer: SecretSealer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'intake-secrets-'));
    [callerRing, pismoRing] = await Promise.all([generatePinKeyRing(), generatePinKeyRing()]);
    await writePinKeyRingFile(path.join(dir, 'pin-keys.json'), callerRing);
    await writePublicKeyRingFile(path.join(dir, 'pismo.public.json'), pismoRing);
    const callerKeys = await PrivateKeyRingFile.open(path.join(dir, 'pin-keys.json'), options);
    const pismoKeys = await PublicKeyRingFile.open(path.join(dir, 'pismo.public.json'), options);
    files = [callerKeys, pismoKeys];
    const config = { INTAKE_ALLOW_PLAINTEXT_PIN: false, INTAKE_SEALED_SECRET_TTL_SECONDS: 600 } as IntakeConfig;
    sealer = new SecretSealer(callerKeys, new CommandKeys(new Map([['pismo', pismoKeys]])), config);
  });

  afterAll(async () => {
    files.forEach((file) => file.close());
    await rm(dir, { recursive: true, force: true });
  });

  it("re-seals a caller's PIN to the vendor's command key, for that card and command only, expiring after the TTL", async () => {
    const sealed = await sealer.seal('pin', { encrypted: await encryptPin('739146', callerRing) }, PISMO_PIN_RULES, target);

    const header = decodeProtectedHeader(sealed);
    expect(header).toMatchObject({ kid: pismoRing.currentKid, pinflow_card: 'card-1', pinflow_command: target.commandId });
    expect((header.exp as number) - Date.now() / 1000).toBeGreaterThan(590);
    expect((header.exp as number) - Date.now() / 1000).toBeLessThanOrEqual(600);
    expect(await decryptSecret('pin', sealed, pismoRing, target)).toBe('739146');
  });

  it("cannot open what callers sealed to a vendor's command key: callers only reach intake through the caller-facing key", async () => {
    const sealedToPismo = await encryptPin('739146', pismoRing);

    const refusal = await sealer.seal('pin', { encrypted: sealedToPismo }, PISMO_PIN_RULES, target).then(String, (error: unknown) => error);

    expect(refusal).toBeInstanceOf(ProblemException);
    expect((refusal as ProblemException).problem).toMatchObject({ status: 400, code: 'PIN_UNDECRYPTABLE', reason: 'UNKNOWN_KEY' });
  });
});
