import { cardChainFindings, ChainedEvent, eventHash, GENESIS_HASH } from './audit-chain';

/** A row as the trigger would have stored it after `previous`. */
function chained(sequence: number, previous?: ChainedEvent, data = '{"vendor": "pismo"}'): ChainedEvent {
  const event: ChainedEvent = {
    sequence: String(sequence),
    eventId: `event-${sequence}`,
    type: 'pinflow.pin.change.accepted',
    source: 'urn:pinflow:intake',
    cardId: 'card-1',
    requestId: 'request-1',
    commandId: null,
    time: new Date('2026-12-04T10:00:00.123Z'),
    data,
    recordedAt: new Date('2026-12-04T10:00:00.456Z'),
    prevHash: previous?.hash ?? GENESIS_HASH,
    hash: '',
  };
  return { ...event, hash: eventHash(event) };
}

function cardOf(length: number): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  for (let sequence = 1; sequence <= length; sequence++) events.push(chained(sequence * 10, events[events.length - 1]));
  return events;
}

const kinds = (events: ChainedEvent[]) =>
  cardChainFindings(events).map((finding) => `${finding.kind} ${(finding.kind === 'deleted' ? finding.before : finding.event).sequence}`);

describe('a card chain, as `npm run audit -- verify` judges it', () => {
  it('finds nothing in a chain the trigger built', () => {
    expect(kinds(cardOf(4))).toEqual([]);
  });

  it('tells NULL from an empty field and moves no byte from one field to the next unnoticed', () => {
    const [event] = cardOf(1);
    expect(eventHash({ ...event, commandId: '' })).not.toBe(event.hash);
    expect(eventHash({ ...event, type: `${event.type}u`, source: event.source.slice(1) })).not.toBe(event.hash);
  });

  it('reports a row rewritten together with its hash as a gap before the row that linked to it', () => {
    const [first, , third] = cardOf(3);
    const rewritten = chained(20, first, '{"vendor": "vault"}');

    expect(kinds([first, rewritten, third])).toEqual(['deleted 30']);
  });

  it('reports a forged first event, placed before the card’s real one, as inserted', () => {
    const events = cardOf(2);
    const forged = chained(5);

    expect(kinds([forged, ...events])).toEqual(['inserted 5']);
  });

  it('reports every row a later row links past as inserted', () => {
    const [first, second] = cardOf(2);
    const forgedA = chained(11, first);
    const forgedB = chained(12, forgedA);

    expect(kinds([first, forgedA, forgedB, second])).toEqual(['inserted 11', 'inserted 12']);
  });
});
