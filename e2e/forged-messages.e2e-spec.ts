import { buildEvent, commandTopic, deterministicEventId, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, PismoCommand, pismoCommand } from '@pinflow/contracts';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, INTAKE_SIGNER, MESSAGE_SIGNATURE_HEADER, SignsMessages, workerSigner } from '@pinflow/kafka';
import { sealForCommand } from '@pinflow/pin-crypto';
import type { Stack } from '@pinflow/platform';
import { testCommand, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { dumpDatabase, occurrences, PinflowClient, readLogs, startSuite, Suite } from './support';

/**
 * Whoever can write to Kafka, but holds no key of intake or of the vendor's worker: its commands are
 * never executed and its events never stored or believed, however valid their contents, and so can
 * take no event id before the real outcome.
 */
describe('forged commands and events', () => {
  const COMMANDS = commandTopic('pismo');
  const PINS = { forged: '804613', signedByWorker: '517382', wrongTopic: '693025', genuine: '328170', real: '472951' };

  let suite: Suite;
  let stack: Stack;
  let client: PinflowClient;
  let recorder: TopicRecorder;
  let producer: Producer;
  const newCard = () => `forged-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    suite = await startSuite({ apps: ['sandbox-pismo', 'worker-pismo', 'audit', 'intake'], writer: 'mobile-backend', topics: [COMMANDS, EVENTS_TOPIC, DEAD_LETTER_TOPIC] });
    ({ stack, client, recorder } = suite);
    const { kafkaBrokers, kafkaSecurity } = testEnv();
    producer = new Kafka({ clientId: 'forger', brokers: kafkaBrokers.split(','), ...kafkaSecurity?.client }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect();
    await suite?.stop();
  }, 60_000);

  /** Straight onto the topic, signed by `signer` for `signedFor` (default: the topic itself), or not at all. */
  async function produce(topic: string, key: string, message: object, signer?: SignsMessages, signedFor = topic): Promise<void> {
    const value = Buffer.from(JSON.stringify(message));
    const headers = signer ? { [MESSAGE_SIGNATURE_HEADER]: signer.sign(signedFor, value) } : {};
    await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
  }

  /** A valid command whose PIN is sealed, as intake would seal it, to the worker's current public command key. */
  async function changePinCommand(cardId: string, pin: string): Promise<PismoCommand> {
    const command = testCommand(pismoCommand, { vendor: 'pismo', cardId, caller: { subject: 'forger' }, operation: 'change_pin', encryptedPin: 'a.b.c.d.e', syncOfflinePin: false });
    return { ...command, encryptedPin: await sealForCommand('pin', pin, stack.secrets.commandKeys.pismo!.ring, command) } as PismoCommand;
  }

  const deadLetter = (source: string, matches: (value: any) => boolean) =>
    waitFor(`the dead letter from ${source}`, async () =>
      recorder.messages.find((letter) => letter.topic === DEAD_LETTER_TOPIC && letter.headers[DEAD_LETTER_HEADERS.topic] === source && matches(JSON.parse(letter.value))),
    );

  const pinMatches = async (cardId: string, pin: string) => (await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin })).body.matches;
  const keys = () => stack.secrets.messageKeys;

  it('dead-letters as UNTRUSTED a valid command that is unsigned, signed by a worker, or signed by intake for another topic; Pismo is never called', async () => {
    const forgeries = [
      { pin: PINS.forged, detail: 'no pinflow-signature header' },
      { pin: PINS.signedByWorker, signer: keys().signerOf(workerSigner('pismo')), detail: `worker-pismo may not publish on ${COMMANDS}` },
      { pin: PINS.wrongTopic, signer: keys().signerOf(INTAKE_SIGNER), signedFor: commandTopic('vault'), detail: `signed for topic ${commandTopic('vault')}, found on ${COMMANDS}` },
    ].map((forgery) => ({ ...forgery, cardId: newCard() }));
    const commands: PismoCommand[] = [];
    for (const { cardId, pin, signer, signedFor } of forgeries) {
      await client.seedCard(cardId);
      const command = await changePinCommand(cardId, pin);
      commands.push(command);
      await produce(COMMANDS, cardId, command, signer, signedFor);
    }

    const letters = await Promise.all(commands.map((command) => deadLetter(COMMANDS, (value) => value.commandId === command.commandId)));
    expect(letters.map((letter) => [letter.headers[DEAD_LETTER_HEADERS.reason], letter.headers[DEAD_LETTER_HEADERS.detail]])).toEqual(forgeries.map(({ detail }) => ['UNTRUSTED', detail]));
    const calls = JSON.stringify((await client.sandbox('GET', '/sandbox/calls')).body);
    for (const { cardId, pin } of forgeries) {
      expect(await pinMatches(cardId, pin)).toBe(false);
      expect(calls).not.toContain(cardId);
    }
    const commandIds = commands.map((command) => command.commandId);
    expect(recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => commandIds.includes(event.data.commandId ?? ''))).toEqual([]);
  });

  it('executes the same command signed by intake for its topic: the refusals above are the signature’s doing', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await produce(COMMANDS, cardId, await changePinCommand(cardId, PINS.genuine), keys().signerOf(INTAKE_SIGNER));
    await waitFor('the PIN to be changed', async () => (await pinMatches(cardId, PINS.genuine)) || undefined, 30_000);
  });

  it('dead-letters forged events before audit or intake store them, so the real outcome is the one recorded under its id', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    // The worker away, so that the forgeries certainly come first.
    await stack.services['worker-pismo'].stop();
    try {
      const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.real) });
      expect(accepted.status).toBe(202);
      const command = await recorder.waitForJson<PismoCommand>(COMMANDS, (value) => value.requestId === accepted.body.requestId);
      // What the worker would publish had the vendor refused: a failure under the id it would use.
      const failure = (id: string) =>
        buildEvent(EVENT_TYPES.failed, {
          id,
          source: 'pinflow/worker-pismo',
          cardId,
          data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, operation: 'change_pin', reason: 'VENDOR_REJECTED' },
        });
      const forgeries = {
        unsigned: failure(deterministicEventId(command.commandId, EVENT_TYPES.failed, 'VENDOR_REJECTED')),
        byIntake: failure(randomUUID()),
        byAnotherWorker: failure(randomUUID()),
      };
      await produce(EVENTS_TOPIC, cardId, forgeries.unsigned);
      await produce(EVENTS_TOPIC, cardId, forgeries.byIntake, keys().signerOf(INTAKE_SIGNER));
      await produce(EVENTS_TOPIC, cardId, forgeries.byAnotherWorker, keys().signerOf(workerSigner('vault')));

      // Both consumers of the events, audit and intake's status recorder, park each forgery.
      const groups = async (event: PinflowEvent) => {
        await waitFor('both consumers’ dead letters', async () => {
          const letters = recorder.messages.filter((letter) => letter.topic === DEAD_LETTER_TOPIC && letter.value.includes(event.id));
          return new Set(letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.group])).size >= 2 ? letters : undefined;
        });
        return recorder.messages
          .filter((letter) => letter.topic === DEAD_LETTER_TOPIC && letter.value.includes(event.id))
          .map((letter) => [letter.headers[DEAD_LETTER_HEADERS.reason], letter.headers[DEAD_LETTER_HEADERS.detail]]);
      };
      expect(await groups(forgeries.unsigned)).toEqual([
        ['UNTRUSTED', 'no pinflow-signature header'],
        ['UNTRUSTED', 'no pinflow-signature header'],
      ]);
      expect(await groups(forgeries.byIntake)).toEqual([
        ['UNTRUSTED', 'intake may not publish this message'],
        ['UNTRUSTED', 'intake may not publish this message'],
      ]);
      expect(await groups(forgeries.byAnotherWorker)).toEqual([
        ['UNTRUSTED', 'worker-vault may not publish this message'],
        ['UNTRUSTED', 'worker-vault may not publish this message'],
      ]);
      expect((await client.status(accepted.body.requestId)).body.status).toBe('accepted');

      await stack.start('worker-pismo');
      const outcome = await client.outcome(accepted.body.requestId);
      expect(outcome.status).toBe('succeeded');
      expect(await pinMatches(cardId, PINS.real)).toBe(true);
      const audited = (await client.auditRequest(accepted.body.requestId)).body.events as PinflowEvent[];
      expect(audited.map((event) => event.type)).not.toContain(EVENT_TYPES.failed);
      for (const forgery of Object.values(forgeries)) expect(audited.map((event) => event.id)).not.toContain(forgery.id);
      expect(await dumpDatabase(testEnv().databaseUrl)).toMatch(new RegExp(`audit_events: \\{[^\\n]*"event_id":"${outcome.events.find((event: PinflowEvent) => event.type === EVENT_TYPES.passwordChanged).id}"[^\\n]*"signer":"worker-pismo"`));
    } finally {
      if (!stack.services['worker-pismo'].isRunning()) await stack.start('worker-pismo');
    }
  });

  it('leaks none of the PINs into logs, the database or Kafka', async () => {
    const haystack = [readLogs(stack), await dumpDatabase(testEnv().databaseUrl), ...recorder.messages.map((message) => message.value)].join('\n');
    expect(occurrences(haystack, Object.values(PINS))).toEqual([]);
  });
});
