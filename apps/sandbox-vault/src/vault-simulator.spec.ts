import { CallLog, defaultKnobs, FaultInjector } from '@pinflow/sandbox-kit';
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { CardRegistry } from './card';
import { RsaKeyRing } from './rsa-keys';
import { VAULT_OPERATIONS, VaultKnobs, vaultKnobsSchema } from './vault-knobs';
import { VaultSimulator } from './vault-simulator';

describe('VaultSimulator: setting a passcode', () => {
  let keys: RsaKeyRing;
  let cards: CardRegistry;
  let calls: CallLog<(typeof VAULT_OPERATIONS)[number]>;
  let simulator: VaultSimulator;

  beforeAll(async () => {
    keys = await RsaKeyRing.generate(2048);
  });

  beforeEach(() => {
    cards = new CardRegistry();
    calls = new CallLog(VAULT_OPERATIONS);
    const faults = new FaultInjector<VaultKnobs>({ ...defaultKnobs(300), rsaPadding: 'oaep-sha256', codeTtlSeconds: 300 }, { vendorKnobs: vaultKnobsSchema });
    simulator = new VaultSimulator(cards, keys, calls, faults);
  });

  function encrypted(passcode: string): string {
    const key = createPublicKey({ key: Buffer.from(keys.publicKey.publicKey, 'base64'), format: 'der', type: 'spki' });
    return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(passcode)).toString('base64');
  }

  function cardWithCode(id = '42') {
    const card = cards.seed(id, 'ACTIVE');
    simulator.sendCode(id);
    return { card, code: card.code!.value };
  }

  it('stores only a hash of the passcode, uses the code up and counts the change', async () => {
    const { card, code } = cardWithCode();
    await simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: encrypted('7392') });
    expect(card.passcodeHash?.matches('7392')).toBe(true);
    expect(JSON.stringify(card)).not.toContain('7392');
    expect(card).toMatchObject({ passcodeChanges: 1, passcodeSetAt: expect.any(Date) });
    expect(card.code?.used).toBe(true);
    expect(calls.appliedByKey()).toEqual({ '42': { passcodeSets: 1, codesSent: 1 } });
  });

  it('refuses a second use of the same code, and changes nothing', async () => {
    const { card, code } = cardWithCode();
    await simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: encrypted('7392') });
    await expect(simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: encrypted('1357') })).rejects.toMatchObject({ code: 'CODE_ALREADY_USED', field: 'code' });
    expect(card.passcodeHash?.matches('7392')).toBe(true);
    expect(card.passcodeChanges).toBe(1);
  });

  it.each([
    ['a weak passcode', '4444', 'PASSCODE_TOO_WEAK', 'passCode'],
    ['a passcode of five digits', '73921', 'PASSCODE_INVALID_FORMAT', 'passCode'],
  ])('refuses %s without using the code up, so the cardholder can try again', async (_case, passcode, error, field) => {
    const { card, code } = cardWithCode();
    await expect(simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: encrypted(passcode) })).rejects.toMatchObject({ status: 400, code: error, field });
    expect(card.code?.used).toBe(false);
    await simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: encrypted('7392') });
    expect(card.passcodeChanges).toBe(1);
  });

  it('refuses a code when none was sent, and an older code once a new one was sent', async () => {
    cards.seed('7', 'ACTIVE');
    await expect(simulator.setPasscode('7', { keyId: keys.publicKey.id, code: '123456', passCode: encrypted('7392') })).rejects.toMatchObject({ code: 'CODE_INVALID' });
    const { code: older } = cardWithCode('8');
    simulator.sendCode('8');
    await expect(simulator.setPasscode('8', { keyId: keys.publicKey.id, code: older, passCode: encrypted('7392') })).rejects.toMatchObject({ code: 'CODE_INVALID' });
    expect(calls.appliedByKey()['8']).toEqual({ passcodeSets: 0, codesSent: 2 });
  });

  it('refuses a key id that is not the current key, a passcode it cannot decrypt, an unknown card and a closed one', async () => {
    const { code } = cardWithCode();
    await expect(simulator.setPasscode('42', { keyId: 'old', code, passCode: encrypted('7392') })).rejects.toMatchObject({ code: 'KEY_EXPIRED', field: 'keyId' });
    await expect(simulator.setPasscode('42', { keyId: keys.publicKey.id, code, passCode: Buffer.from('7392').toString('base64') })).rejects.toMatchObject({
      code: 'PASSCODE_UNREADABLE',
      field: 'passCode',
    });
    await expect(simulator.setPasscode('43', { keyId: keys.publicKey.id, code, passCode: encrypted('7392') })).rejects.toMatchObject({ status: 404, code: 'CARD_NOT_FOUND' });
    cards.seed('44', 'CLOSED');
    expect(() => simulator.sendCode('44')).toThrow(expect.objectContaining({ code: 'CARD_CLOSED' }));
  });

  it('checks a code without using it up', () => {
    const { card, code } = cardWithCode();
    simulator.verifyCode('42', code);
    expect(card.code?.used).toBe(false);
    expect(() => simulator.verifyCode('42', code === '000000' ? '000001' : '000000')).toThrow(expect.objectContaining({ code: 'CODE_INVALID' }));
  });
});
