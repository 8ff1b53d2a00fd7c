import { encryptSecret, generatePinKeyRing, PinDecryptionError, PinKeyRing } from '@pinflow/pin-crypto';
import type { VaultSetPasscodeCommand } from '@pinflow/contracts';
import type { VendorCallResult } from '@pinflow/worker-kit';
import { constants, generateKeyPairSync, privateDecrypt, randomUUID } from 'node:crypto';
import { sealedCheckCodeCommand, sealedPasscodeCommand, sendCodeCommand } from './test-commands';
import { VaultAdapter } from './vault-adapter';
import type { VaultClient, VaultPasscodeBody } from './vault/vault-client';
import { VaultKeys } from './vault/vault-keys';

const answered = (status: number, body: unknown): VendorCallResult => ({ kind: 'answered', status, body: JSON.stringify(body) });
const CODE_ALREADY_USED = answered(400, { error: 'CODE_ALREADY_USED', errorId: 32, message: 'The code was already used', field: 'code' });
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Vault as the adapter's client sees it: one key, and answers to code/set given in turn (the last repeats). */
class FakeVault {
  readonly sets: { cardId: string; body: VaultPasscodeBody }[] = [];
  readonly codeSteps: { cardId: string; step: 'send' | 'verify'; code?: string }[] = [];
  codeStepAnswer = answered(200, { result: 'ok' });

  sendCode = async (cardId: string): Promise<VendorCallResult> => {
    this.codeSteps.push({ cardId, step: 'send' });
    return this.codeStepAnswer;
  };

  verifyCode = async (cardId: string, code: string): Promise<VendorCallResult> => {
    this.codeSteps.push({ cardId, step: 'verify', code });
    return this.codeStepAnswer;
  };
  answers: VendorCallResult[] = [answered(200, { result: 'ok' })];

  publicKey = async (): Promise<VendorCallResult> => answered(200, { id: 'key-1', publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') });

  setPasscode = async (cardId: string, body: VaultPasscodeBody): Promise<VendorCallResult> => {
    this.sets.push({ cardId, body });
    return this.answers.length > 1 ? this.answers.shift()! : this.answers[0];
  };

  /** What Vault would decrypt out of `passCode` (RSA-OAEP-SHA-256). */
  passcodeOf(index: number): string {
    const ciphertext = Buffer.from(this.sets[index].body.passCode, 'base64');
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext).toString('utf8');
  }
}

describe('VaultAdapter', () => {
  let keyRing: PinKeyRing;
  let vault: FakeVault;
  let adapter: VaultAdapter;

  const command = (passcode = '0739', code = '482913') => sealedPasscodeCommand(keyRing, passcode, code);

  beforeAll(async () => {
    keyRing = await generatePinKeyRing();
  });

  beforeEach(() => {
    vault = new FakeVault();
    adapter = new VaultAdapter(vault as unknown as VaultClient, new VaultKeys(vault.publicKey), keyRing, 'oaep-sha256');
  });

  it('sends the key id, the code in clear and the passcode encrypted to Vault’s key, for the card in the command', async () => {
    const call = await adapter.prepare(await command('0739', '482913'));
    expect(vault.sets).toEqual([]);

    expect(await call(1)).toEqual(answered(200, { result: 'ok' }));

    expect(vault.sets).toEqual([{ cardId: '1234435', body: { keyId: 'key-1', code: '482913', passCode: expect.any(String) } }]);
    expect(vault.passcodeOf(0)).toBe('0739');
  });

  it('refuses, before any call, a command whose passcode or code it cannot decrypt', async () => {
    const other = await generatePinKeyRing();
    const unreadableCode = { ...(await command()), encryptedCode: await encryptSecret('oneTimeCode', '482913', other) };
    const sealed = await command();
    const codeAsPasscode = { ...sealed, encryptedPasscode: sealed.encryptedCode };

    await expect(adapter.prepare(unreadableCode)).rejects.toThrow(PinDecryptionError);
    await expect(adapter.prepare(codeAsPasscode)).rejects.toThrow(PinDecryptionError);
    expect(vault.sets).toEqual([]);
  });

  it.each([
    ['another card', (sealed: VaultSetPasscodeCommand) => ({ cardId: `${sealed.cardId}9` }), 'BOUND_TO_ANOTHER_CARD'],
    ['another command', () => ({ commandId: randomUUID() }), 'BOUND_TO_ANOTHER_COMMAND'],
  ] as const)('refuses, before any call, secrets replayed from a command for %s', async (_case, elsewhere, code) => {
    const sealed = await command();

    await expect(adapter.prepare({ ...sealed, ...elsewhere(sealed) })).rejects.toMatchObject({ code });
    expect(vault.sets).toEqual([]);
  });

  it('passes a gateway’s 504 on as the timeout it is, which the kit never repeats: Vault may have set the passcode behind it', async () => {
    vault.answers = [answered(504, { error: 'GATEWAY_TIMEOUT', errorId: 5 })];

    expect(await (await adapter.prepare(await command()))(1)).toEqual({ kind: 'unreachable', cause: 'timeout' });
  });

  it.each([
    ['a 500, which applied nothing and which the kit retries', answered(500, { error: 'COMMON', errorId: 0 })],
    ['a refusal', CODE_ALREADY_USED],
  ])('passes %s on as Vault answered it', async (_case, answer) => {
    vault.answers = [answer];

    expect(await (await adapter.prepare(await command()))(1)).toEqual(answer);
  });

  it('asks Vault to text a code for the card in the command', async () => {
    const call = await adapter.prepare(sendCodeCommand({ cardId: '77' }));
    expect(await call(1)).toEqual(answered(200, { result: 'ok' }));
    expect(vault.codeSteps).toEqual([{ cardId: '77', step: 'send' }]);
  });

  it('checks the code it decrypted, and refuses before any call a code sealed to another key', async () => {
    await (await adapter.prepare(await sealedCheckCodeCommand(keyRing, '482913', { cardId: '77' })))(1);
    expect(vault.codeSteps).toEqual([{ cardId: '77', step: 'verify', code: '482913' }]);

    await expect(adapter.prepare(await sealedCheckCodeCommand(await generatePinKeyRing(), '482913'))).rejects.toThrow(PinDecryptionError);
    expect(vault.codeSteps).toHaveLength(1);
  });

  it('lets the kit check a code again after a timeout, as a check changes nothing; a timed-out send or set stays unknown', async () => {
    vault.codeStepAnswer = answered(504, { error: 'GATEWAY_TIMEOUT', errorId: 5 });
    const check = await sealedCheckCodeCommand(keyRing, '482913');

    expect(await (await adapter.prepare(check))(1)).toEqual({ kind: 'unreachable', cause: 'timeout' });
    expect(await adapter.checkOutcome(check)).toEqual({ outcome: 'not_applied' });
    expect(await adapter.checkOutcome(sendCodeCommand())).toEqual({ outcome: 'unknown' });
    expect(await adapter.checkOutcome(await command())).toEqual({ outcome: 'unknown' });
  });
});
