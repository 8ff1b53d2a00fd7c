import { SignatureRejectedError } from '@pinflow/auth';
import { EVENTS_TOPIC, REQUEST_SCHEMA_VERSION, REQUEST_SIGNATURE_HEADER, requestTopic } from '@pinflow/contracts';
import { HandlerVerdict, JsonProducer, KafkaMessageContext, MessageMeta, TopicBatch } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { ProblemException } from '@pinflow/http';
import { cardNotFound } from './card-ownership';
import type { KafkaRequesters } from './kafka-requesters';
import { RequestDoorConsumer } from './request-door.consumer';
import type { Requester, RequestsService } from './requests.service';
import type { Submissions } from './submissions';

const REPLY_TOPIC = 'core-banking.pinflow-answers';

/** Two requesters, both with the reply topic, card-lifecycle with a tenant; trusts the signature header to name its signer, so that the topic check is what is tested here. */
const requesters = {
  verify: async (_payload: Uint8Array, signature: string | undefined) => {
    if (!signature) throw new SignatureRejectedError('expected a compact JWS with detached payload');
    return signature;
  },
  mayReplyOn: (_requester: string, replyTopic: string) => replyTopic === REPLY_TOPIC,
  tenantOf: (requester: string) => (requester === 'card-lifecycle' ? 'acme' : undefined),
} as unknown as KafkaRequesters;

/** The door over recording fakes: what it submitted and what it published; `refusal`, what the shared path refuses with. */
function door(refusal?: ProblemException) {
  const submitted: Requester[] = [];
  const published: TopicBatch[] = [];
  const submit = async (requester: Requester) => {
    submitted.push(requester);
    if (refusal) throw refusal;
    return { replayed: false };
  };
  const requests = { submit } as unknown as RequestsService;
  const submissions = { fromKafka: (request: unknown) => request } as unknown as Submissions;
  const producer = { sendBatch: async (batches: TopicBatch[]) => void published.push(...batches) } as unknown as JsonProducer;
  const logger = { info: () => undefined } as unknown as Logger;
  return { consumer: new RequestDoorConsumer(requests, submissions, requesters, producer, logger), submitted, published };
}

/** A Pismo PIN change for card-1 on `topic`, signed by `signer`. */
function received(consumer: RequestDoorConsumer, topic: string, signer: string): Promise<HandlerVerdict | void> {
  const request = {
    schemaVersion: REQUEST_SCHEMA_VERSION,
    clientRequestId: 'reissue-42',
    replyTopic: REPLY_TOPIC,
    vendor: 'pismo',
    operation: 'change_pin',
    cardId: 'card-1',
    body: { encryptedPin: 'aGVhZGVy.a2V5.aXY.Y2lwaGVy.dGFn' },
  };
  const meta: MessageMeta = { topic, partition: 0, offset: '7', key: 'card-1', headers: { [REQUEST_SIGNATURE_HEADER]: signer }, rawValue: Buffer.from(JSON.stringify(request)), heartbeat: async () => undefined };
  return consumer.receive(request, new KafkaMessageContext([[meta]]));
}

describe("intake's Kafka door: a request must be signed by the requester whose topic it came on", () => {
  it("submits a request signed by its topic's requester, in that requester's name", async () => {
    const { consumer, submitted } = door();

    const verdict = await received(consumer, requestTopic('core-banking'), 'core-banking');

    expect(verdict).toBeUndefined();
    expect(submitted).toEqual([expect.objectContaining({ principal: expect.objectContaining({ subject: 'core-banking' }), idempotencyKey: 'reissue-42', replyTopic: REPLY_TOPIC })]);
  });

  it("rejects a request signed by another requester (REQUESTER_MISMATCH): dead-lettered, answered on the events topic in no one's name, nothing submitted", async () => {
    const { consumer, submitted, published } = door();

    const verdict = await received(consumer, requestTopic('card-lifecycle'), 'core-banking');

    expect(verdict).toEqual({ deadLetter: { reason: 'REQUESTER_MISMATCH', detail: 'signed by core-banking, on the request topic of card-lifecycle', attempts: 1 } });
    expect(submitted).toEqual([]);
    expect(published.map((batch) => batch.topic)).toEqual([EVENTS_TOPIC]);
    const [answer] = published[0].messages.map((message) => message.value as { data: { caller?: string } });
    expect(answer).toMatchObject({ type: 'pinflow.pin_change.rejected', subject: 'card-1', data: { clientRequestId: 'reissue-42', problem: { status: 403, code: 'REQUESTER_MISMATCH' } } });
    expect(answer.data.caller).toBeUndefined();
  });

  it('rejects a validly signed request on a topic that is no request topic', async () => {
    const { consumer, submitted } = door();

    const verdict = await received(consumer, 'pinflow.requests.v1', 'core-banking');

    expect(verdict).toMatchObject({ deadLetter: { reason: 'REQUESTER_MISMATCH', detail: 'signed by core-banking, on the request topic of no requester' } });
    expect(submitted).toEqual([]);
  });

  it("submits in the name of the requester's configured tenant, whose cards it may act on", async () => {
    const { consumer, submitted } = door();

    await received(consumer, requestTopic('card-lifecycle'), 'card-lifecycle');

    expect(submitted.map((requester) => requester.principal)).toEqual([{ subject: 'card-lifecycle', tenant: 'acme', scopes: new Set(['pin:write']) }]);
  });

  it('answers a request for a card of another tenant with the HTTP door\'s CARD_NOT_FOUND, as a rejected event in the requester\'s name', async () => {
    const { consumer, published } = door(cardNotFound());

    const verdict = await received(consumer, requestTopic('core-banking'), 'core-banking');

    expect(verdict).toBeUndefined();
    expect(published.map((batch) => batch.topic)).toEqual([EVENTS_TOPIC, REPLY_TOPIC]);
    expect(published[0].messages[0].value).toMatchObject({ type: 'pinflow.pin_change.rejected', subject: 'card-1', data: { caller: 'core-banking', clientRequestId: 'reissue-42', problem: { status: 404, code: 'CARD_NOT_FOUND' } } });
  });
});
