import { Card, CardRejected, CardStatus } from './card';
import { CardRegistry } from './card-registry';
import { PinHash } from '@pinflow/sandbox-kit';

const NOW = new Date('2025-03-01T10:00:00.000Z');

function cardIn(status: CardStatus): Card {
  return new CardRegistry(3).seed('4001', { status, programId: 7, cardType: 'PLASTIC' }, NOW);
}

function scriptIds(): () => number {
  let id = 0;
  return () => ++id;
}

describe('Card: change password', () => {
  let hash: PinHash;
  beforeAll(async () => {
    hash = PinHash.of('4821');
  });

  it('replaces the PIN, records when, counts the change and restarts the tries counter', () => {
    const card = cardIn('NORMAL');
    card.passwordTries = 2;
    expect(card.changePin(hash, false, NOW, scriptIds())).toEqual([{ kind: 'password_changed' }]);
    expect(card.pinHash).toBe(hash);
    expect(card.pinChangedAt).toEqual(NOW);
    expect(card.pinChanges).toBe(1);
    expect(card.passwordTries).toBe(0);
    expect(card.pendingScripts).toEqual([]);
  });

  it.each<CardStatus>(['CREATED', 'UNBOUND', 'PENDING', 'WARNING'])('is allowed for a %s card', (status) => {
    const card = cardIn(status);
    card.changePin(hash, false, NOW, scriptIds());
    expect(card.status).toBe(status);
    expect(card.pinChanges).toBe(1);
  });

  it('leaves a BLOCKED card blocked: only resetting the tries unblocks it', () => {
    const card = cardIn('BLOCKED');
    card.passwordTries = 3;
    card.changePin(hash, false, NOW, scriptIds());
    expect(card.status).toBe('BLOCKED');
    expect(card.passwordTries).toBe(0);
  });

  it.each<CardStatus>(['CANCELED', 'LOST', 'EXPIRED', 'REISSUED'])('is refused for a %s card, which stays untouched', (status) => {
    const card = cardIn(status);
    expect(() => card.changePin(hash, true, NOW, scriptIds())).toThrow(new CardRejected('TERMINAL_STATUS', `Cannot change the password of a card in status ${status}`));
    expect(card.pinHash).toBeUndefined();
    expect(card.pinChanges).toBe(0);
    expect(card.pendingScripts).toEqual([]);
  });

  it('with sync_offline_pin creates a pending SYNC_PIN script, reported after the password change', () => {
    const card = cardIn('NORMAL');
    const changes = card.changePin(hash, true, NOW, scriptIds());
    const script = { id: 1, type: 'SYNC_PIN', createdAt: NOW };
    expect(changes).toEqual([{ kind: 'password_changed' }, { kind: 'script', scriptEvent: 'script_created', script }]);
    expect(card.pendingScripts).toEqual([script]);
  });
});

describe('Card: chip scripts', () => {
  it('are applied by the next contact authorization, oldest first, and only once', async () => {
    const card = cardIn('NORMAL');
    const ids = scriptIds();
    card.changePin(PinHash.of('4821'), true, NOW, ids);
    card.changePin(PinHash.of('9305'), true, NOW, ids);
    const later = new Date(NOW.getTime() + 60_000);

    const changes = card.applyPendingScripts(later);

    expect(changes.map((change) => change.kind === 'script' && [change.scriptEvent, change.script.id])).toEqual([
      ['script_applied', 1],
      ['script_applied', 2],
    ]);
    expect(card.pendingScripts).toEqual([]);
    expect(card.appliedScripts.map((script) => script.appliedAt)).toEqual([later, later]);
    expect(card.applyPendingScripts(later)).toEqual([]);
  });

  it('sync the online PIN to the chip on request, without a PIN change, once applied', () => {
    const card = cardIn('NORMAL');
    card.changePin(PinHash.of('4821'), false, NOW, scriptIds());

    expect(card.syncOfflinePin(NOW, scriptIds())).toEqual([{ kind: 'script', scriptEvent: 'script_created', script: { id: 1, type: 'SYNC_PIN', createdAt: NOW } }]);
    expect(card.offlinePinHash).toBeUndefined();
    card.applyPendingScripts(NOW);
    expect(card.offlinePinHash?.matches('4821')).toBe(true);
    expect(card.pinChanges).toBe(1);
  });

  it('write a PIN update script’s own PIN to the chip once applied, leaving the online PIN alone', () => {
    const card = cardIn('NORMAL');
    card.changePin(PinHash.of('4821'), false, NOW, scriptIds());

    const { script, changes } = card.appendPinUpdateScript(PinHash.of('9305'), 'issuer-script-7', NOW, scriptIds());

    expect(script).toMatchObject({ id: 1, type: 'PIN_UPDATE', issuerScriptId: 'issuer-script-7' });
    expect(changes).toEqual([{ kind: 'script', scriptEvent: 'script_created', script }]);
    card.applyPendingScripts(NOW);
    expect(card.offlinePinHash?.matches('9305')).toBe(true);
    expect(card.pinHash?.matches('4821')).toBe(true);
  });

  it.each<CardStatus>(['CANCELED', 'LOST'])('are refused for a %s card', (status) => {
    const card = cardIn(status);
    expect(() => card.syncOfflinePin(NOW, scriptIds())).toThrow(CardRejected);
    expect(() => card.appendPinUpdateScript(PinHash.of('9305'), 's', NOW, scriptIds())).toThrow(CardRejected);
    expect(card.pendingScripts).toEqual([]);
  });
});

describe('Card: increase password tries', () => {
  it('counts up and blocks a NORMAL card when the counter reaches the maximum', () => {
    const card = cardIn('NORMAL');
    expect(card.increasePasswordTries(true, 3)).toEqual([]);
    expect(card.increasePasswordTries(true, 3)).toEqual([]);
    expect(card.status).toBe('NORMAL');
    expect(card.increasePasswordTries(true, 3)).toEqual([{ kind: 'status_changed', previousStatus: 'NORMAL' }]);
    expect(card.status).toBe('BLOCKED');
    expect(card.passwordTries).toBe(3);
  });

  it.each<CardStatus>(['PENDING', 'WARNING'])('blocks a temporarily blocked (%s) card too', (status) => {
    const card = cardIn(status);
    expect(card.increasePasswordTries(true, 1)).toEqual([{ kind: 'status_changed', previousStatus: status }]);
    expect(card.status).toBe('BLOCKED');
  });

  it('never blocks when block_card_exceeds_counter is false, however high the counter', () => {
    const card = cardIn('NORMAL');
    for (let i = 0; i < 5; i += 1) expect(card.increasePasswordTries(false, 3)).toEqual([]);
    expect(card.passwordTries).toBe(5);
    expect(card.status).toBe('NORMAL');
  });

  it('blocks at the next try once the flag is set after the maximum was passed', () => {
    const card = cardIn('NORMAL');
    for (let i = 0; i < 4; i += 1) card.increasePasswordTries(false, 3);
    expect(card.increasePasswordTries(true, 3)).toEqual([{ kind: 'status_changed', previousStatus: 'NORMAL' }]);
  });

  it.each<CardStatus>(['CREATED', 'UNBOUND'])('only counts for a %s card: its status never changes', (status) => {
    const card = cardIn(status);
    for (let i = 0; i < 4; i += 1) expect(card.increasePasswordTries(true, 3)).toEqual([]);
    expect(card.passwordTries).toBe(4);
    expect(card.status).toBe(status);
  });

  it('keeps counting on a BLOCKED card without reporting a new status change', () => {
    const card = cardIn('BLOCKED');
    expect(card.increasePasswordTries(true, 3)).toEqual([]);
    expect(card.increasePasswordTries(true, 3)).toEqual([]);
    expect(card.passwordTries).toBe(2);
    expect(card.status).toBe('BLOCKED');
  });

  it('is refused for a card in a terminal status', () => {
    const card = cardIn('CANCELED');
    expect(() => card.increasePasswordTries(true, 3)).toThrow(CardRejected);
    expect(card.passwordTries).toBe(0);
  });
});

describe('Card: reset password tries', () => {
  it('unblocks a BLOCKED card and clears its counter', () => {
    const card = cardIn('NORMAL');
    for (let i = 0; i < 3; i += 1) card.increasePasswordTries(true, 3);
    expect(card.resetPasswordTries()).toEqual([{ kind: 'status_changed', previousStatus: 'BLOCKED' }]);
    expect(card.status).toBe('NORMAL');
    expect(card.passwordTries).toBe(0);
  });

  it.each<CardStatus>(['NORMAL', 'PENDING', 'WARNING'])('only clears the counter of a %s card', (status) => {
    const card = cardIn(status);
    card.increasePasswordTries(false, 3);
    expect(card.resetPasswordTries()).toEqual([]);
    expect(card.passwordTries).toBe(0);
    expect(card.status).toBe(status);
  });

  it.each<CardStatus>(['CREATED', 'UNBOUND', 'CANCELED', 'FRAUD'])('is refused for a %s card (Pismo answers 406)', (status) => {
    const card = cardIn(status);
    card.passwordTries = 1;
    expect(() => card.resetPasswordTries()).toThrow(new CardRejected('TRIES_NOT_RESETTABLE', `Cannot reset the password tries of a card in status ${status}`));
    expect(card.passwordTries).toBe(1);
  });
});

describe('CardRegistry', () => {
  it('never invents a card it was not given', () => {
    const registry = new CardRegistry(3);
    registry.seed('4001', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
    expect(registry.find('4001')).toBeDefined();
    expect(registry.find('4002')).toBeUndefined();
  });

  it('takes the maximum tries from the card, else its program, else the default, reading the program at every try', () => {
    const registry = new CardRegistry(3);
    const plain = registry.seed('4001', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
    const own = registry.seed('4002', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC', maxPasswordTries: 9 });
    expect(registry.maxPasswordTries(plain)).toBe(3);
    registry.setProgramMaxPasswordTries(7, 5);
    expect(registry.maxPasswordTries(plain)).toBe(5);
    expect(registry.maxPasswordTries(own)).toBe(9);
  });

  it('replaces a card on a second seed with a fresh one', async () => {
    const registry = new CardRegistry(3);
    const first = registry.seed('4001', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
    first.changePin(PinHash.of('4821'), true, NOW, () => registry.nextId());
    const second = registry.seed('4001', { status: 'BLOCKED', programId: 7, cardType: 'VIRTUAL' });
    expect(registry.find('4001')).toBe(second);
    expect(second).toMatchObject({ status: 'BLOCKED', pinChanges: 0, pendingScripts: [] });
  });

  it('dates a card issued now and valid for five years', () => {
    const card = new CardRegistry(3).seed('4001', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' }, NOW);
    expect(card.profile).toMatchObject({ issuingDate: NOW, expirationDate: new Date('2030-03-01T00:00:00.000Z') });
  });

  it('gives every card its own account and customer unless told otherwise', () => {
    const registry = new CardRegistry(3);
    const first = registry.seed('card-a', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' }).profile;
    const second = registry.seed('card-b', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' }).profile;
    const given = registry.seed('card-c', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC', accountId: 88, customerId: 99 }).profile;
    expect(new Set([first.accountId, first.customerId, second.accountId, second.customerId]).size).toBe(4);
    expect(given).toMatchObject({ accountId: 88, customerId: 99 });
  });
});
