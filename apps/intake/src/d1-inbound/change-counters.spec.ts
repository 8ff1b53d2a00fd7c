import { buildEvent, EVENT_TYPES } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';
import { pushOutcomesOf } from './change-counters';
import { completed, failed } from './push-outcomes.spec-support';

describe('the outcomes that settle D1 pushes', () => {
  const PISMO = new Set(['pismo'] as const);
  const card = 'card-1';
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];

  it('counts a success and a failure the vendor surely did not apply, each for its command', () => {
    expect(pushOutcomesOf([completed(card, a), failed(card, b, 'CARD_NOT_FOUND')], PISMO)).toEqual({ succeeded: [[a]], failed: [b] });
  });

  it('takes a success over a failure of the same command, in either order', () => {
    expect(pushOutcomesOf([failed(card, a, 'VENDOR_REJECTED'), completed(card, a), completed(card, b), failed(card, b, 'VENDOR_REJECTED')], PISMO)).toEqual({ succeeded: [[a], [b]], failed: [] });
  });

  it('lets a failure of unknown outcome decide nothing: the PIN may have changed', () => {
    expect(pushOutcomesOf([failed(card, a, 'OUTCOME_UNKNOWN')], PISMO)).toEqual({ succeeded: [], failed: [] });
  });

  it('ignores other vendors, events that end no command, and progress that is no outcome', () => {
    const progress = buildEvent(EVENT_TYPES.issuerScriptRequested, { source: '/test/worker', cardId: card, data: { vendor: 'pismo', commandId: c, scriptType: 'SYNC_PIN', scriptStatus: 'script_created' } });
    const unprompted = buildEvent(EVENT_TYPES.passwordChanged, { source: '/test/worker', cardId: card, data: { vendor: 'pismo' } });

    expect(pushOutcomesOf([completed(card, a, 'solaris'), failed(card, b, 'VENDOR_REJECTED', 'vault'), progress, unprompted], PISMO)).toEqual({ succeeded: [], failed: [] });
  });

  it('names each command once however often its outcome was delivered', () => {
    expect(pushOutcomesOf([completed(card, a), completed(card, a), failed(card, b, 'SECRET_EXPIRED'), failed(card, b, 'SECRET_EXPIRED')], PISMO)).toEqual({ succeeded: [[a]], failed: [b] });
  });

  it('puts each card at most once in a round of successes, its later ones in later rounds in their order', () => {
    const other = 'card-2';

    expect(pushOutcomesOf([completed(card, a), completed(other, b), completed(card, c), completed(card, a)], PISMO)).toEqual({ succeeded: [[a, b], [c]], failed: [] });
  });
});
