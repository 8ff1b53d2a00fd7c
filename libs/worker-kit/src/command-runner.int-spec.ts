import { buildEvent, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, VaultSetPasscodeCommand } from '@pinflow/contracts';
import { createPrismaClient, PrismaClient } from '@pinflow/db';
import { createKafka, ensureTopics, JsonProducer, MessageMeta } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { decryptSecret, encryptSecret, generatePinKeyRing, PinKeyRing } from '@pinflow/pin-crypto';
import { testEnv, TopicRecorder } from '@pinflow/testing';
import { randomInt, randomUUID } from 'node:crypto';
import { CommandLedger } from './command-ledger';
import { CommandRunner, VendorAdapter, VendorCall } from './command-runner';
import { COMMAND_STATES, commandEvent, failedSettlement, Settlement } from './outcomes';
import { VendorEvent, VendorEventRunner } from './vendor-events';
import { isSuccess, VendorCallResult } from '@pinflow/vendor-http';

const MAX_ATTEMPTS = 3;
const ok = (status = 200): VendorCallResult => ({ kind: 'answered', status, body: '{"result":"ok"}' });
const failing = (status: number): VendorCallResult => ({ kind: 'answered', status, body: '{"error":"COMMON","message":"Simulated"}' });

/**
 * A vendor as the runner sees it through its adapter: answers are scripted per card, and every
 * call is noted with the passcode it would have carried. A 202 means "accepted, an event follows".
 */
class ScriptedVendor implements VendorAdapter<VaultSetPasscodeCommand> {
  readonly log: string[] = [];
  readonly passcodes: string[] = [];
  private readonly answers = new Map<string, VendorCallResult[]>();

  constructor(private readonly keyRing: PinKeyRing) {}

  script(cardId: string, ...answers: VendorCallResult[]): void {
    this.answers.set(cardId, answers);
  }

  callsFor(cardId: string): string[] {
    return this.log.filter((entry) => entry.startsWith(`call ${cardId} `));
  }

  async prepare(command: VaultSetPasscodeCommand): Promise<VendorCall> {
    const passcode = await decryptSecret('passcode', command.encryptedPasscode, this.keyRing);
    return async (attempt) => {
      this.log.push(`call ${command.cardId} ${attempt}`);
      this.passcodes.push(passcode);
      return this.answers.get(command.cardId)?.shift() ?? ok();
    };
  }

  settle(command: VaultSetPasscodeCommand, result: VendorCallResult): Settlement {
    if (!isSuccess(result)) return failedSettlement(command, result);
    if (result.status === 202) return { state: COMMAND_STATES.awaitingVendorEvent, correlationId: `vault-${command.commandId}`, vendorStatus: 202 };
    return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordChanged, command, {}), vendorStatus: result.status };
  }

  details(): { keyId: string } {
    return { keyId: 'vault-key-1' };
  }
}

describe('CommandRunner and VendorEventRunner against a real database and broker', () => {
  let prisma: PrismaClient;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let keyRing: PinKeyRing;
  let vendor: ScriptedVendor;
  let ledger: CommandLedger;
  let runner: CommandRunner<VaultSetPasscodeCommand>;
  let vendorEvents: VendorEventRunner;

  const heartbeat = async () => {
    vendor.log.push('heartbeat');
  };

  const newCard = () => String(randomInt(1, 2 ** 47));

  async function passcodeCommand(cardId: string, passcode: string, ring = keyRing): Promise<VaultSetPasscodeCommand> {
    return {
      schemaVersion: 1,
      vendor: 'vault',
      operation: 'set_passcode',
      commandId: randomUUID(),
      requestId: randomUUID(),
      cardId,
      caller: { subject: 'worker-kit-it' },
      issuedAt: new Date().toISOString(),
      encryptedPasscode: await encryptSecret('passcode', passcode, ring),
      encryptedCode: await encryptSecret('oneTimeCode', '123456', ring),
    };
  }

  const row = (commandId: string) => prisma.vendorCommand.findUniqueOrThrow({ where: { commandId } });

  /**
   * The events published about a card so far. A marker goes out on the same key (so the same
   * partition) and comes back last: everything published before it has been seen by then.
   */
  async function eventsFor(cardId: string): Promise<PinflowEvent[]> {
    const marker = buildEvent(EVENT_TYPES.cardBlocked, { source: '/worker-kit-it', cardId, data: { vendor: 'vault' } });
    await producer.publishEvents([marker]);
    await recorder.waitForJson<PinflowEvent>(EVENTS_TOPIC, (event) => event.id === marker.id);
    return recorder.json<PinflowEvent>(EVENTS_TOPIC).filter((event) => event.subject === cardId && event.source !== '/worker-kit-it');
  }

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    const logger = createLogger('worker-kit-int-spec', 'silent');
    const settings = { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 };
    const kafka = createKafka(settings, 'worker-kit-int-spec', logger);
    await ensureTopics(kafka, [{ topic: EVENTS_TOPIC, partitions: settings.KAFKA_EVENT_PARTITIONS }], 1);
    producer = new JsonProducer(kafka);
    await producer.connect();
    recorder = await new TopicRecorder(kafkaBrokers, [EVENTS_TOPIC]).start();
    prisma = createPrismaClient(databaseUrl, 2);
    keyRing = await generatePinKeyRing();
    vendor = new ScriptedVendor(keyRing);
    ledger = new CommandLedger(prisma, 'vault');
    runner = new CommandRunner(vendor, ledger, producer, { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5 }, logger);
    vendorEvents = new VendorEventRunner(ledger, producer, logger);
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await producer?.disconnect();
    await prisma?.$disconnect();
  });

  it('calls the vendor once for a command delivered twice, and publishes its outcome once, recorded as published', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '739164');

    await runner.handle(command, heartbeat);
    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
    const events = await eventsFor(cardId);
    expect(events).toEqual([
      expect.objectContaining({ type: EVENT_TYPES.passwordChanged, source: '/pinflow/worker-vault', data: { vendor: 'vault', requestId: command.requestId, commandId: command.commandId } }),
    ]);
    const stored = await row(command.commandId);
    expect(stored).toMatchObject({ vendor: 'vault', state: 'SUCCEEDED', attempts: 1, vendorStatus: 200, correlationId: command.commandId, details: { keyId: 'vault-key-1' }, outcomeEvent: events[0] });
    expect(stored.outcomePublishedAt).not.toBeNull();
    // The passcode reached the vendor, and nowhere else: not the row, not the event.
    expect(vendor.passcodes.at(-1)).toBe('739164');
    expect(JSON.stringify({ stored, events })).not.toContain('739164');
    expect(JSON.stringify(stored)).not.toContain(command.encryptedPasscode);
  });

  it('retries transient answers with a heartbeat before every attempt, then fails with the last answer', async () => {
    const cardId = newCard();
    vendor.script(cardId, failing(503), { kind: 'unreachable', cause: 'timeout' }, failing(500), ok());
    const command = await passcodeCommand(cardId, '582047');

    await runner.handle(command, heartbeat);

    const mine = vendor.log.filter((entry) => entry === 'heartbeat' || entry.startsWith(`call ${cardId} `)).slice(-2 * MAX_ATTEMPTS);
    expect(mine).toEqual(['heartbeat', `call ${cardId} 1`, 'heartbeat', `call ${cardId} 2`, 'heartbeat', `call ${cardId} 3`]);
    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { title: 'COMMON', detail: 'Simulated' } }) }),
    ]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED', attempts: MAX_ATTEMPTS, vendorStatus: 500 });
  });

  it('never calls the vendor for a command a crashed worker left CALLING: it fails with OUTCOME_UNKNOWN', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '904317');
    await ledger.claim(command);

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'OUTCOME_UNKNOWN', commandId: command.commandId }) })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED' });
  });

  it('publishes the recorded outcome of a command that ended before its event left, without calling again', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '630958');
    const outcome = commandEvent(EVENT_TYPES.passwordChanged, command, {});
    await ledger.claim(command);
    await ledger.finishCall(command.commandId, COMMAND_STATES.succeeded, outcome, 200);

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([outcome]);
    expect((await row(command.commandId)).outcomePublishedAt).not.toBeNull();
  });

  it('fails with UNDECRYPTABLE_PIN, without calling the vendor, when a secret cannot be decrypted', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '815263', await generatePinKeyRing());

    await runner.handle(command, heartbeat);
    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ data: { vendor: 'vault', requestId: command.requestId, commandId: command.commandId, operation: 'set_passcode', reason: 'UNDECRYPTABLE_PIN' } }),
    ]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED', attempts: 0 });
  });

  it('leaves an accepted command to the vendor’s event, which settles it and is published once however often it comes', async () => {
    const cardId = newCard();
    vendor.script(cardId, ok(202));
    const command = await passcodeCommand(cardId, '370851');
    await runner.handle(command, heartbeat);
    expect(await row(command.commandId)).toMatchObject({ state: 'AWAITING_VENDOR_EVENT', correlationId: `vault-${command.commandId}`, vendorStatus: 202 });

    const seen: unknown[] = [];
    const eventId = randomUUID();
    const vendorEvent: VendorEvent = {
      eventId,
      eventType: 'passcode_set',
      correlationId: `vault-${command.commandId}`,
      translate: (stored) => {
        seen.push(stored && { commandId: stored.commandId, details: stored.details });
        return { event: commandEvent(EVENT_TYPES.passwordChanged, command, { vendorEventId: eventId }), settles: COMMAND_STATES.succeeded };
      },
    };
    await vendorEvents.handle(vendorEvent);
    await vendorEvents.handle(vendorEvent);

    expect(seen).toEqual([{ commandId: command.commandId, details: { keyId: 'vault-key-1' } }]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged, data: expect.objectContaining({ vendorEventId: eventId }) })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED' });
  });

  it('keeps each vendor to its own commands, and lets two vendors use the same correlation id', async () => {
    const command = await passcodeCommand(newCard(), '461938');
    const shared = `shared-${command.commandId}`;
    const solaris = new CommandLedger(prisma, 'solaris');
    const solarisCommand = { vendor: 'solaris' as const, commandId: randomUUID(), requestId: randomUUID(), cardId: 'solaris-card', operation: 'change_pin' };
    await ledger.claim(command);
    await solaris.claim(solarisCommand);

    expect(await ledger.awaitVendorEvent(command.commandId, 202, shared)).toBe(true);
    expect(await solaris.awaitVendorEvent(solarisCommand.commandId, 202, shared)).toBe(true);

    expect(await solaris.find(command.commandId)).toBeNull();
    expect(await ledger.findByCorrelationId(shared)).toMatchObject({ commandId: command.commandId, vendor: 'vault' });
    expect(await solaris.findByCorrelationId(shared)).toMatchObject({ commandId: solarisCommand.commandId, vendor: 'solaris' });
  });

  it('fails a command that breaks the contract with INVALID_COMMAND when it names its request, and tells nobody otherwise', async () => {
    const cardId = newCard();
    const meta: MessageMeta = { topic: 'pinflow.commands.vault.v1', partition: 0, offset: '0', key: cardId, headers: {}, heartbeat };
    const broken = { commandId: randomUUID(), requestId: randomUUID(), cardId, operation: 'set_passcode', encryptedPasscode: 'not a JWE' };

    await runner.rejectInvalid(broken, ['encryptedPasscode: invalid_format'], meta);
    await runner.rejectInvalid({ ...broken, requestId: 'not-a-uuid' }, ['requestId: invalid_format'], meta);

    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ data: { vendor: 'vault', requestId: broken.requestId, commandId: broken.commandId, operation: 'set_passcode', reason: 'INVALID_COMMAND' } }),
    ]);
  });
});
