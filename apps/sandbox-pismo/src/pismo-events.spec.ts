import { CardRegistry } from './card-registry';
import { PinHash } from '@pinflow/sandbox-kit';
import { pismoEvent, pismoEventFor } from './pismo-events';

const NOW = new Date('2025-03-01T10:00:00.000Z');
const context = { orgId: 'TN-test', cid: 'cid-1', now: NOW };

function seeded() {
  return new CardRegistry(3).seed(
    '4001',
    { status: 'NORMAL', programId: 7, accountId: 88, customerId: 99, cardType: 'PLASTIC', cardName: 'Ann', printedName: 'ANN CHOVEY' },
    new Date('2024-01-15T08:30:00.000Z'),
  );
}

describe('pismoEventFor', () => {
  it('reports a password change as update_password-1 in Pismo envelope', async () => {
    const card = seeded();
    const [change] = card.changePin(PinHash.of('4821'), false, NOW, () => 1);
    const event = pismoEventFor(card, change, context);
    expect(pismoEvent.parse(event)).toEqual(event);
    expect(event).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      domain: 'cards',
      event_type: 'update_password-1',
      schema_version: 1,
      org_id: 'TN-test',
      cid: 'cid-1',
      timestamp: '2025-03-01T10:00:00.000Z',
      data: {
        account_id: 88,
        card_id: 4001,
        card_name: 'Ann',
        card_printed_name: 'ANN CHOVEY',
        card_status: 'NORMAL',
        card_type: 'PLASTIC',
        expiration_date: '2029-01-01T00:00:00.000Z',
        issuing_date: '2024-01-15T08:30:00.000Z',
        program_id: 7,
        status: 'SUCCESS',
      },
    });
  });

  it('reports blocking as update-1 with the new and the previous status', () => {
    const card = seeded();
    const [change] = card.increasePasswordTries(true, 1);
    const event = pismoEventFor(card, change, context);
    expect(pismoEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({ event_type: 'update-1', data: { card_id: 4001, card_status: 'BLOCKED', card_previous_status: 'NORMAL', program_id: 7, account_id: 88 } });
  });

  it('reports chip scripts as issuer_script-1, created then applied', async () => {
    const card = seeded();
    const [, created] = card.changePin(PinHash.of('4821'), true, NOW, () => 41);
    const [applied] = card.applyPendingScripts(NOW);
    const events = [created, applied].map((change) => pismoEventFor(card, change, context));
    for (const event of events) expect(pismoEvent.parse(event)).toEqual(event);
    expect(events.map((event) => event.data)).toEqual([
      { account_id: 88, card_id: 4001, customer_id: 99, program_id: 7, card_script_id: 41, script_event_type: 'script_created', script_type: 'SYNC_PIN' },
      { account_id: 88, card_id: 4001, customer_id: 99, program_id: 7, card_script_id: 41, script_event_type: 'script_applied', script_type: 'SYNC_PIN' },
    ]);
  });

  it('gives every event its own id', async () => {
    const card = seeded();
    const [change] = card.changePin(PinHash.of('4821'), false, NOW, () => 1);
    expect(pismoEventFor(card, change, context).event_id).not.toEqual(pismoEventFor(card, change, context).event_id);
  });
});

describe('card ids in events', () => {
  it('are numbers, as in Pismo, when the card id is one, and stay strings for readable test ids', async () => {
    const registry = new CardRegistry(3);
    const numeric = registry.seed('4001', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
    const readable = registry.seed('card-7f3a', { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
    const [numericEvent, readableEvent] = [numeric, readable].map((card) => pismoEventFor(card, card.increasePasswordTries(true, 1)[0], context));
    expect(numericEvent.data.card_id).toBe(4001);
    expect(readableEvent.data.card_id).toBe('card-7f3a');
    expect(pismoEvent.safeParse(readableEvent).success).toBe(true);
  });
});
