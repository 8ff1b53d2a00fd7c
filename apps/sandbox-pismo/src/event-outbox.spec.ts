import type { EncodedMessage, JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { PinHash } from '@pinflow/sandbox-kit';
import { CardRegistry } from './card-registry';
import { EventOutbox } from './event-outbox';
import { PismoEvent, pismoEventFor } from './pismo-events';

const TOPIC = 'pismo.events';

function passwordChanged(cardId: string): PismoEvent {
  const card = new CardRegistry(3).seed(cardId, { status: 'NORMAL', programId: 7, cardType: 'PLASTIC' });
  const [change] = card.changePin(PinHash.of('4821'), false, new Date(), () => 1);
  return pismoEventFor(card, change, { orgId: 'TN-test', cid: `cid-${cardId}`, now: new Date() });
}

describe('EventOutbox', () => {
  it('sends the events of calls made together in one produce request, each caller answered once the broker has them', async () => {
    const sends: EncodedMessage[][] = [];
    const producer = { sendEncoded: jest.fn(async (messages: EncodedMessage[]) => void sends.push(messages)) } as unknown as JsonProducer;
    const outbox = new EventOutbox(producer, TOPIC, {} as Logger);

    await Promise.all(['4001', '4002', '4003'].map((cardId) => outbox.publish([passwordChanged(cardId)])));

    expect(sends.map((messages) => messages.map(({ topic, key }) => `${topic}/${key}`))).toEqual([[`${TOPIC}/4001`, `${TOPIC}/4002`, `${TOPIC}/4003`]]);
  });
});
