import { buildEvent, EVENT_TYPES, EVENTS_TOPIC, PinflowEvent, VaultSetPasscodeCommand, vaultSetPasscodeCommand } from '@pinflow/contracts';
import { createDatabase, PrismaClient } from '@pinflow/db';
import type { SqlPool } from '@pinflow/sql';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { connectKafkaTransport, createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, ensureTopics, JsonProducer, MessageMeta, PinflowKafkaServer, REPLAYED_FROM_HEADER } from '@pinflow/kafka';
import { createLogger, Logger } from '@pinflow/logging';
import { decryptSecret, generatePinKeyRing, PinKeyRing, sealForCommand, type SecretBinding } from '@pinflow/pin-crypto';
import { RecordedMessage, testCommand, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import type { Kafka, Producer } from 'kafkajs';
import type { QueryConfig } from 'pg';
import { randomInt, randomUUID } from 'node:crypto';
import { CommandLedger } from './command-ledger';
import { commandHandler } from './command-consumer';
import { CommandRunner, OutcomeCheck, VendorAdapter, VendorCall } from './command-runner';
import { COMMAND_STATES, CommandRef, commandEvent, failedSettlement, Settlement } from './outcomes';
import { VendorEvent, VendorEventRunner } from './vendor-events';
import { isSuccess, VendorCallResult } from '@pinflow/vendor-http';
import { inSpan, SpanKind, startTracing, traceIdOf } from '@pinflow/tracing';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';

const MAX_ATTEMPTS = 3;
const ok = (status = 200): VendorCallResult => ({ kind: 'answered', status, body: '{"result":"ok"}' });
const failing = (status: number): VendorCallResult => ({ kind: 'answered', status, body: '{"error":"COMMON","message":"Simulated"}' });
const timedOut: VendorCallResult = { kind: 'unreachable', cause: 'timeout' };
const refused: VendorCallResult = { kind: 'unreachable', cause: 'connection' };

/** What the fake vendor answers to one call: an answer, or a function that answers when it is ready. */
type Answer = VendorCallResult | (() => Promise<VendorCallResult>);

/**
 * A vendor as the runner sees it through its adapter: answers are scripted per card, and every
 * call is noted with the passcode it would have carried. A 202 means "accepted, an event follows".
 */
class ScriptedVendor implements VendorAdapter<VaultSetPasscodeCommand> {
  readonly log: string[] = [];
  readonly passcodes: string[] = [];
  private readonly answers = new Map<string, Answer[]>();
  private readonly checks = new Map<string, OutcomeCheck[]>();
  /** Cards whose outcomes the vendor reports by its own event, whether or not the call was answered. */
  readonly reportingByEvent = new Set<string>();

  constructor(private readonly keyRing: PinKeyRing) {}

  script(cardId: string, ...answers: Answer[]): void {
    this.answers.set(cardId, answers);
  }

  /** What the vendor says when asked about a call of the card's that timed out; it cannot tell unless scripted. */
  scriptChecks(cardId: string, ...checks: OutcomeCheck[]): void {
    this.checks.set(cardId, checks);
  }

  callsFor(cardId: string): string[] {
    return this.log.filter((entry) => entry.startsWith(`call ${cardId} `));
  }

  async prepare(command: VaultSetPasscodeCommand): Promise<VendorCall> {
    const passcode = await decryptSecret('passcode', command.encryptedPasscode, this.keyRing, command);
    return async (attempt) => {
      this.log.push(`call ${command.cardId} ${attempt}`);
      this.passcodes.push(passcode);
      const answer = this.answers.get(command.cardId)?.shift() ?? ok();
      return typeof answer === 'function' ? answer() : answer;
    };
  }

  async checkOutcome(command: VaultSetPasscodeCommand): Promise<OutcomeCheck> {
    this.log.push(`check ${command.cardId}`);
    return this.checks.get(command.cardId)?.shift() ?? { outcome: 'unknown' };
  }

  outcomeReportedByEvent(command: CommandRef): boolean {
    return this.reportingByEvent.has(command.cardId);
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

/** The pool, but the database connection breaks on the first statement sent through it, which never runs. */
function failingFirstStatement(pool: SqlPool): SqlPool {
  let failed = false;
  const query = (config: QueryConfig) => {
    if (failed) return pool.query(config);
    failed = true;
    return Promise.reject(new Error('Connection terminated unexpectedly'));
  };
  return Object.assign(Object.create(pool) as SqlPool, { query });
}

describe('CommandRunner and VendorEventRunner against a real database and broker', () => {
  let prisma: PrismaClient;
  let pool: SqlPool;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let keyRing: PinKeyRing;
  let vendor: ScriptedVendor;
  let ledger: CommandLedger;
  let runner: CommandRunner<VaultSetPasscodeCommand>;
  let vendorEvents: VendorEventRunner;
  let kafka: Kafka;
  let logger: Logger;
  const spans = new InMemorySpanExporter();

  const heartbeat = async () => {
    vendor.log.push('heartbeat');
  };

  const newCard = () => String(randomInt(1, 2 ** 47));

  /** A command as intake seals it: its secrets for its card and id; `sealedFor` seals them for something else. */
  async function passcodeCommand(cardId: string, passcode: string, ring = keyRing, sealedFor: Partial<SecretBinding> & { ttlSeconds?: number } = {}): Promise<VaultSetPasscodeCommand> {
    const command = testCommand(vaultSetPasscodeCommand, { vendor: 'vault', operation: 'set_passcode', cardId, encryptedPasscode: 'a.b.c.d.e', encryptedCode: 'a.b.c.d.e' });
    const binding = { cardId, commandId: command.commandId, ...sealedFor };
    return {
      ...command,
      encryptedPasscode: await sealForCommand('passcode', passcode, ring, binding, sealedFor.ttlSeconds),
      encryptedCode: await sealForCommand('oneTimeCode', '123456', ring, binding, sealedFor.ttlSeconds),
    };
  }

  const row = (commandId: string) => prisma.vendorCommand.findUniqueOrThrow({ where: { commandId } });

  /**
   * The vendor's event that the command's passcode was set, correlated by `correlationId`: linked to
   * the command when the kit hands it one, else a fact about the card alone.
   */
  function passcodeSetEvent(command: VaultSetPasscodeCommand, correlationId: string): VendorEvent {
    const eventId = randomUUID();
    return {
      eventId,
      eventType: 'passcode_set',
      correlationId,
      translate: (stored) =>
        stored
          ? { event: commandEvent(EVENT_TYPES.passwordChanged, command, { vendorEventId: eventId }), settles: COMMAND_STATES.succeeded }
          : { event: buildEvent(EVENT_TYPES.passwordChanged, { source: '/pinflow/worker-vault', cardId: command.cardId, data: { vendor: 'vault', vendorEventId: eventId } }) },
    };
  }

  /** A command the vendor applied whose outcome was recorded, and then a crash kept it from being published. */
  async function succeededUnpublished(cardId: string, passcode: string): Promise<{ command: VaultSetPasscodeCommand; outcome: PinflowEvent }> {
    const command = await passcodeCommand(cardId, passcode);
    const outcome = commandEvent(EVENT_TYPES.passwordChanged, command, {});
    await ledger.claim(command, {});
    await ledger.finishCall(command.commandId, COMMAND_STATES.succeeded, outcome, 200);
    return { command, outcome };
  }

  /** Makes a command look as if its last change were `ms` ago, as a sweep sees it. */
  async function ageCommand(commandId: string, ms: number): Promise<void> {
    await prisma.vendorCommand.update({ where: { commandId }, data: { updatedAt: new Date(Date.now() - ms) } });
  }

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
    logger = createLogger('worker-kit-int-spec', 'silent');
    await startTracing('worker-kit-int-spec', { spanProcessors: [new SimpleSpanProcessor(spans)] });
    const settings = { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 };
    kafka = createKafka(settings, 'worker-kit-int-spec', logger);
    await ensureTopics(kafka, [{ topic: EVENTS_TOPIC, partitions: settings.KAFKA_EVENT_PARTITIONS }, { topic: DEAD_LETTER_TOPIC, partitions: 1 }], 1);
    producer = new JsonProducer(kafka);
    await producer.connect();
    recorder = await new TopicRecorder(kafkaBrokers, [EVENTS_TOPIC]).start();
    ({ prisma, pool } = createDatabase(databaseUrl, 2));
    keyRing = await generatePinKeyRing();
    vendor = new ScriptedVendor(keyRing);
    ledger = new CommandLedger(pool, 'vault');
    // A circuit that never opens here: the breaker has its own tests below, with its own runner.
    runner = new CommandRunner(vendor, ledger, producer, { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5, breaker: { threshold: 1000, cooldownMs: 100 } }, logger);
    vendorEvents = new VendorEventRunner(ledger, producer, logger);
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await producer?.disconnect();
    await prisma?.$disconnect();
    await pool?.end();
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

  it('retries answers the vendor surely did not apply, with a heartbeat before every attempt, then fails with the last answer, replayable and dead-lettered', async () => {
    const cardId = newCard();
    vendor.script(cardId, failing(503), refused, failing(500), ok());
    const command = await passcodeCommand(cardId, '582047');

    const verdict = await runner.handle(command, heartbeat);

    const mine = vendor.log.filter((entry) => entry === 'heartbeat' || entry.startsWith(`call ${cardId} `)).slice(-2 * MAX_ATTEMPTS);
    expect(mine).toEqual(['heartbeat', `call ${cardId} 1`, 'heartbeat', `call ${cardId} 2`, 'heartbeat', `call ${cardId} 3`]);
    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'VENDOR_UNAVAILABLE', vendorStatus: 500, vendorError: { title: 'COMMON', detail: 'Simulated' } }) }),
    ]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED_RETRYABLE', attempts: MAX_ATTEMPTS, vendorStatus: 500 });
    expect(verdict).toEqual({ deadLetter: { reason: 'RETRIES_EXHAUSTED', detail: 'VENDOR_UNAVAILABLE, vendor status 500', attempts: MAX_ATTEMPTS }, parked: expect.any(Function) });
  });

  it('never repeats a call that timed out: without the vendor’s word on it, the command fails with OUTCOME_UNKNOWN and is dead-lettered', async () => {
    const cardId = newCard();
    vendor.script(cardId, failing(503), timedOut, ok());
    const command = await passcodeCommand(cardId, '248135');

    const verdict = await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`, `call ${cardId} 2`]);
    expect(vendor.log).toContain(`check ${cardId}`);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'OUTCOME_UNKNOWN' }) })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED', attempts: 2 });
    expect(verdict).toEqual({ deadLetter: { reason: 'OUTCOME_UNKNOWN', detail: 'OUTCOME_UNKNOWN', attempts: 2 }, parked: expect.any(Function) });
  });

  it('settles a call that timed out as the vendor’s answer when the vendor says it applied the command, without calling again', async () => {
    const cardId = newCard();
    vendor.script(cardId, timedOut, ok());
    vendor.scriptChecks(cardId, { outcome: 'applied', result: ok(200) });
    const command = await passcodeCommand(cardId, '529376');

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: 1, vendorStatus: 200 });
  });

  it('calls again after a timeout when the vendor says it did not apply the command', async () => {
    const cardId = newCard();
    vendor.script(cardId, timedOut, ok(201));
    vendor.scriptChecks(cardId, { outcome: 'not_applied' });
    const command = await passcodeCommand(cardId, '730461');

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`, `call ${cardId} 2`]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: 2, vendorStatus: 201 });
  });

  it('never calls the vendor for a command a crashed worker left CALLING: it fails with OUTCOME_UNKNOWN and is dead-lettered', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '904317');
    await ledger.claim(command, {});

    const verdict = await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'OUTCOME_UNKNOWN', commandId: command.commandId }) })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED' });
    expect(verdict).toMatchObject({ deadLetter: { reason: 'OUTCOME_UNKNOWN' } });
  });

  describe('when the vendor reports outcomes by its own event', () => {
    const TIMEOUT_MS = 60_000;

    it('awaits that event after a call timed out, never calling again, and the event settles the command with its one outcome', async () => {
      const cardId = newCard();
      vendor.reportingByEvent.add(cardId);
      vendor.script(cardId, timedOut, ok());
      const command = await passcodeCommand(cardId, '318264');

      const verdict = await runner.handle(command, heartbeat);
      expect(verdict).toBeUndefined();
      expect(await row(command.commandId)).toMatchObject({ state: 'AWAITING_VENDOR_EVENT', correlationId: command.commandId, vendorStatus: null });
      await vendorEvents.handle(passcodeSetEvent(command, command.commandId));

      expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
      expect(vendor.log).not.toContain(`check ${cardId}`);
      expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged, data: expect.objectContaining({ commandId: command.commandId }) })]);
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', outcomePublishedAt: expect.any(Date) });
    });

    it('awaits that event for a command a crashed worker left CALLING, instead of failing it', async () => {
      const cardId = newCard();
      vendor.reportingByEvent.add(cardId);
      const command = await passcodeCommand(cardId, '905316');
      await ledger.claim(command, {});

      expect(await runner.handle(command, heartbeat)).toBeUndefined();

      expect(vendor.callsFor(cardId)).toEqual([]);
      expect(await row(command.commandId)).toMatchObject({ state: 'AWAITING_VENDOR_EVENT', correlationId: command.commandId });
    });

    it('calls the vendor once and settles by its answer when the database failed the claim: the failed delivery made no call, so no event is awaited', async () => {
      const cardId = newCard();
      vendor.reportingByEvent.add(cardId);
      const command = await passcodeCommand(cardId, '516273');
      const claimFailing = new CommandRunner(vendor, new CommandLedger(failingFirstStatement(pool), 'vault'), producer, { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5 }, logger);

      await expect(claimFailing.handle(command, heartbeat)).rejects.toThrow('Connection terminated unexpectedly');
      expect(await ledger.find(command.commandId)).toBeNull();
      await claimFailing.handle(command, heartbeat);

      expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
      expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged, data: expect.objectContaining({ commandId: command.commandId }) })]);
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: 1, outcomePublishedAt: expect.any(Date) });
    });

    it('calls the vendor once for a command left CALLING with no call counted (claimed, then the step before the call failed), and settles it without awaiting an event', async () => {
      const cardId = newCard();
      vendor.reportingByEvent.add(cardId);
      const command = await passcodeCommand(cardId, '627384');
      await prisma.vendorCommand.create({
        data: { commandId: command.commandId, vendor: 'vault', requestId: command.requestId, cardId, operation: command.operation, state: 'CALLING', correlationId: command.commandId, attempts: 0 },
      });

      expect(await runner.handle(command, heartbeat)).toBeUndefined();

      expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
      expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged, data: expect.objectContaining({ commandId: command.commandId }) })]);
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    });

    it('fails the command with OUTCOME_UNKNOWN once the event is overdue; an event that comes later is published for the card, never as a second outcome', async () => {
      const cardId = newCard();
      vendor.reportingByEvent.add(cardId);
      vendor.script(cardId, timedOut);
      const command = await passcodeCommand(cardId, '427158');
      await runner.handle(command, heartbeat);

      await runner.endOverdueWaits(TIMEOUT_MS);
      expect(await row(command.commandId)).toMatchObject({ state: 'AWAITING_VENDOR_EVENT' });
      await ageCommand(command.commandId, TIMEOUT_MS + 1_000);
      await runner.endOverdueWaits(TIMEOUT_MS);
      await runner.endOverdueWaits(TIMEOUT_MS);
      await vendorEvents.handle(passcodeSetEvent(command, command.commandId));

      const events = await eventsFor(cardId);
      expect(events).toEqual([
        expect.objectContaining({ type: EVENT_TYPES.failed, data: expect.objectContaining({ reason: 'OUTCOME_UNKNOWN', requestId: command.requestId }) }),
        expect.objectContaining({ type: EVENT_TYPES.passwordChanged, data: { vendor: 'vault', vendorEventId: expect.any(String) } }),
      ]);
      expect(await row(command.commandId)).toMatchObject({ state: 'FAILED', outcomePublishedAt: expect.any(Date) });
    });

  });

  it('asks for a dead letter once: a redelivery after the letter was parked asks for none', async () => {
    const cardId = newCard();
    vendor.script(cardId, timedOut);
    const command = await passcodeCommand(cardId, '582931');

    const first = await runner.handle(command, heartbeat);
    const beforeParking = await runner.handle(command, heartbeat);
    await first?.parked?.();
    const afterParking = await runner.handle(command, heartbeat);

    expect(first).toMatchObject({ deadLetter: { reason: 'OUTCOME_UNKNOWN' } });
    expect(beforeParking).toMatchObject({ deadLetter: { reason: 'OUTCOME_UNKNOWN' } });
    expect(afterParking).toBeUndefined();
    expect(vendor.callsFor(cardId)).toHaveLength(1);
  });

  it('goes on with the retries of a command a stopped worker left RETRYING, since the vendor applied none of its calls', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '617283');
    await ledger.claim(command, {});
    await ledger.retrying(command.commandId, 503);

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 2`]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ type: EVENT_TYPES.passwordChanged })]);
    expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: 2 });
  });

  it('publishes the recorded outcome of a command that ended before its event left, without calling again', async () => {
    const cardId = newCard();
    const { command, outcome } = await succeededUnpublished(cardId, '630958');

    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([outcome]);
    expect((await row(command.commandId)).outcomePublishedAt).not.toBeNull();
  });

  it('publishes at the sweep an outcome left unpublished longer than the republish delay (a broker outage cut its publication short), and leaves a younger one to its delivery', async () => {
    const REPUBLISH_AFTER_MS = 30_000;
    const stranded = await succeededUnpublished(newCard(), '610384');
    const recent = await succeededUnpublished(newCard(), '720495');
    await ageCommand(stranded.command.commandId, REPUBLISH_AFTER_MS + 1_000);

    await runner.publishStranded(REPUBLISH_AFTER_MS);

    expect(await eventsFor(stranded.command.cardId)).toEqual([stranded.outcome]);
    expect((await row(stranded.command.commandId)).outcomePublishedAt).not.toBeNull();
    expect(await eventsFor(recent.command.cardId)).toEqual([]);
    expect((await row(recent.command.commandId)).outcomePublishedAt).toBeNull();
  });

  it('fails with UNDECRYPTABLE_PIN, without calling the vendor, when a secret cannot be decrypted, and dead-letters the command', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '815263', await generatePinKeyRing());

    const verdict = await runner.handle(command, heartbeat);
    await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ data: { vendor: 'vault', requestId: command.requestId, commandId: command.commandId, operation: 'set_passcode', reason: 'UNDECRYPTABLE_PIN' } }),
    ]);
    expect(await row(command.commandId)).toMatchObject({ state: 'FAILED_RETRYABLE', attempts: 0 });
    expect(verdict).toEqual({ deadLetter: { reason: 'UNDECRYPTABLE', detail: 'UNDECRYPTABLE_PIN', attempts: 0 }, parked: expect.any(Function) });
  });

  it.each([
    ['sealed for another card', { cardId: 'another-card' }, 'SECRET_NOT_FOR_THIS_COMMAND'],
    ['sealed for another command', { commandId: '5d1c9a0e-7b7e-4d43-9f3a-3c1f0e2b8a61' }, 'SECRET_NOT_FOR_THIS_COMMAND'],
    ['expired', { ttlSeconds: -1 }, 'SECRET_EXPIRED'],
  ] as const)('fails with %s → %s, without calling the vendor, and dead-letters the command', async (_case, sealedFor, reason) => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '815263', keyRing, sealedFor);

    const verdict = await runner.handle(command, heartbeat);

    expect(vendor.callsFor(cardId)).toEqual([]);
    expect(await eventsFor(cardId)).toEqual([expect.objectContaining({ data: expect.objectContaining({ commandId: command.commandId, reason }) })]);
    expect(verdict).toEqual({ deadLetter: { reason: 'UNDECRYPTABLE', detail: reason, attempts: 0 }, parked: expect.any(Function) });
  });

  describe('a replayed command', () => {
    it('runs again when the vendor applied none of its calls, and its new outcome is published', async () => {
      const cardId = newCard();
      vendor.script(cardId, failing(503), failing(503), failing(503));
      const command = await passcodeCommand(cardId, '392817');
      await runner.handle(command, heartbeat);
      vendor.script(cardId, ok());

      const verdict = await runner.handle(command, heartbeat, { replayed: true });

      expect(vendor.callsFor(cardId)).toHaveLength(MAX_ATTEMPTS + 1);
      expect((await eventsFor(cardId)).map((event) => event.type)).toEqual([EVENT_TYPES.failed, EVENT_TYPES.passwordChanged]);
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', attempts: MAX_ATTEMPTS + 1, vendorStatus: 200 });
      expect((await row(command.commandId)).outcomePublishedAt).not.toBeNull();
      expect(verdict).toBeUndefined();
    });

    it('runs again once its secret can be decrypted (the worker got the key it was missing)', async () => {
      const cardId = newCard();
      const command = await passcodeCommand(cardId, '283746');
      const withoutTheKey = new CommandRunner(new ScriptedVendor(await generatePinKeyRing()), ledger, producer, { maxAttempts: 1, baseDelayMs: 5 }, logger);
      await withoutTheKey.handle(command, heartbeat);

      await runner.handle(command, heartbeat, { replayed: true });

      expect(vendor.callsFor(cardId)).toEqual([`call ${cardId} 1`]);
      expect(vendor.passcodes.at(-1)).toBe('283746');
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED', correlationId: command.commandId, details: { keyId: 'vault-key-1' } });
    });

    it('is never called again when its outcome is unknown or the vendor rejected it', async () => {
      const unknownCard = newCard();
      const rejectedCard = newCard();
      vendor.script(unknownCard, timedOut);
      vendor.script(rejectedCard, failing(400));
      const unknown = await passcodeCommand(unknownCard, '471829');
      const rejected = await passcodeCommand(rejectedCard, '562910');
      await runner.handle(unknown, heartbeat);
      await runner.handle(rejected, heartbeat);

      expect(await runner.handle(unknown, heartbeat, { replayed: true })).toBeUndefined();
      expect(await runner.handle(rejected, heartbeat, { replayed: true })).toBeUndefined();

      expect(vendor.callsFor(unknownCard)).toHaveLength(1);
      expect(vendor.callsFor(rejectedCard)).toHaveLength(1);
      expect(await row(unknown.commandId)).toMatchObject({ state: 'FAILED' });
      expect(await row(rejected.commandId)).toMatchObject({ state: 'FAILED' });
    });

    it('is not run again once the card got a later command, which it would undo', async () => {
      const cardId = newCard();
      vendor.script(cardId, failing(503), failing(503), failing(503));
      const stale = await passcodeCommand(cardId, '918273');
      const later = await passcodeCommand(cardId, '374650');
      await runner.handle(stale, heartbeat);
      await runner.handle(later, heartbeat);

      await runner.handle(stale, heartbeat, { replayed: true });

      expect(vendor.callsFor(cardId)).toHaveLength(MAX_ATTEMPTS + 1);
      expect(vendor.passcodes.at(-1)).toBe('374650');
      expect(await row(stale.commandId)).toMatchObject({ state: 'FAILED_RETRYABLE' });
    });
  });

  describe('while the vendor is down', () => {
    const cooldownMs = 1_000;
    let guarded: CommandRunner<VaultSetPasscodeCommand>;

    beforeAll(() => {
      guarded = new CommandRunner(vendor, ledger, producer, { maxAttempts: 1, baseDelayMs: 5, breaker: { threshold: 2, cooldownMs } }, logger);
    });

    it('stops calling it after failures in a row, holds commands without failing them, and resumes by itself once a probe gets an answer', async () => {
      const [first, second, held] = [newCard(), newCard(), newCard()];
      vendor.script(first, failing(503));
      vendor.script(second, refused);
      await guarded.handle(await passcodeCommand(first, '103948'), heartbeat);
      await guarded.handle(await passcodeCommand(second, '203948'), heartbeat);
      expect(guarded.circuitState).toBe('open');

      const command = await passcodeCommand(held, '303948');
      const heartbeatsBefore = vendor.log.filter((entry) => entry === 'heartbeat').length;
      const handled = guarded.handle(command, heartbeat);
      await new Promise((resolve) => setTimeout(resolve, cooldownMs / 3));
      // Held: not called, not failed, not even claimed, and the consumer kept alive meanwhile.
      expect(vendor.callsFor(held)).toEqual([]);
      expect(await ledger.find(command.commandId)).toBeNull();
      expect(vendor.log.filter((entry) => entry === 'heartbeat').length).toBeGreaterThan(heartbeatsBefore);

      await handled;
      expect(vendor.callsFor(held)).toEqual([`call ${held} 1`]);
      expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED' });
      expect(guarded.circuitState).toBe('closed');
    });

    it('opens again for another cool-down when the probe fails too', async () => {
      const [first, second, probe, next] = [newCard(), newCard(), newCard(), newCard()];
      vendor.script(first, failing(500));
      vendor.script(second, failing(500));
      const calledAt: Record<string, number> = {};
      const noting = (cardId: string, answer: VendorCallResult) => async () => {
        calledAt[cardId] = Date.now();
        return answer;
      };
      vendor.script(probe, noting(probe, failing(502)));
      vendor.script(next, noting(next, ok()));
      await guarded.handle(await passcodeCommand(first, '113948'), heartbeat);
      await guarded.handle(await passcodeCommand(second, '213948'), heartbeat);

      await guarded.handle(await passcodeCommand(probe, '313948'), heartbeat);
      expect(guarded.circuitState).toBe('open');
      await guarded.handle(await passcodeCommand(next, '413948'), heartbeat);

      expect(calledAt[next] - calledAt[probe]).toBeGreaterThanOrEqual(cooldownMs);
      expect(guarded.circuitState).toBe('closed');
    });
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

  it('publishes the outcome a vendor’s event brings in the trace the command was handled in, though the event carried no trace and overtook the call’s answer', async () => {
    const cardId = newCard();
    const command = await passcodeCommand(cardId, '508163');
    const eventId = randomUUID();
    const vendorEvent: VendorEvent = {
      eventId,
      eventType: 'passcode_set',
      correlationId: command.commandId,
      translate: () => ({ event: commandEvent(EVENT_TYPES.passwordChanged, command, { vendorEventId: eventId }), settles: COMMAND_STATES.succeeded }),
    };
    let eventTraceId: string | undefined;
    // The vendor's event arrives before its answer, without a traceparent: its consumer span, in the
    // vendor events' consumer, starts a trace of its own.
    vendor.script(cardId, async () => {
      eventTraceId = await context.with(ROOT_CONTEXT, () =>
        inSpan('vendor events process', { kind: SpanKind.CONSUMER }, async (span) => {
          await vendorEvents.handle(vendorEvent);
          return span!.spanContext().traceId;
        }),
      );
      return ok(202);
    });
    // What the consumer does for a command: handle it in a span continuing its message's trace.
    const commandTraceId = await inSpan('command process', { kind: SpanKind.CONSUMER }, async (span) => {
      await runner.handle(command, heartbeat);
      return span!.spanContext().traceId;
    });
    expect(await row(command.commandId)).toMatchObject({ state: 'SUCCEEDED' });
    expect(traceIdOf((await row(command.commandId)).traceContext as Record<string, string>)).toBe(commandTraceId);

    const outcome = await waitFor('the outcome on the events topic', async () =>
      recorder.messages.find((message) => message.topic === EVENTS_TOPIC && (JSON.parse(message.value) as PinflowEvent).data.vendorEventId === eventId),
    );
    expect(eventTraceId).not.toBe(commandTraceId);
    expect(traceIdOf(outcome.headers)).toBe(commandTraceId);
    const resumed = spans.getFinishedSpans().find((span) => span.name === 'vault event' && span.spanContext().traceId === commandTraceId);
    expect(resumed?.links.map((link) => link.context.traceId)).toEqual([eventTraceId]);
  });

  it('keeps each vendor to its own commands, and lets two vendors use the same correlation id', async () => {
    const command = await passcodeCommand(newCard(), '461938');
    const shared = `shared-${command.commandId}`;
    const solaris = new CommandLedger(pool, 'solaris');
    const solarisCommand = { vendor: 'solaris' as const, commandId: randomUUID(), requestId: randomUUID(), cardId: 'solaris-card', operation: 'change_pin' };
    await ledger.claim(command, {});
    await solaris.claim(solarisCommand, {});

    expect(await ledger.awaitVendorEvent(command.commandId, 202, shared)).toBe(true);
    expect(await solaris.awaitVendorEvent(solarisCommand.commandId, 202, shared)).toBe(true);

    expect(await solaris.find(command.commandId)).toBeNull();
    expect(await ledger.findByCorrelationId(shared)).toMatchObject({ commandId: command.commandId, vendor: 'vault' });
    expect(await solaris.findByCorrelationId(shared)).toMatchObject({ commandId: solarisCommand.commandId, vendor: 'solaris' });
  });

  it('fails a command that breaks the contract with INVALID_COMMAND when it names its request, and tells nobody otherwise', async () => {
    const cardId = newCard();
    const meta: MessageMeta = { topic: 'pinflow.commands.vault.v1', partition: 0, offset: '0', key: cardId, headers: {}, rawValue: null, heartbeat };
    const broken = { commandId: randomUUID(), requestId: randomUUID(), cardId, operation: 'set_passcode', encryptedPasscode: 'not a JWE' };

    await runner.rejectInvalid(broken, ['encryptedPasscode: invalid_format'], meta);
    await runner.rejectInvalid({ ...broken, requestId: 'not-a-uuid' }, ['requestId: invalid_format'], meta);

    expect(await eventsFor(cardId)).toEqual([
      expect.objectContaining({ data: { vendor: 'vault', requestId: broken.requestId, commandId: broken.commandId, operation: 'set_passcode', reason: 'INVALID_COMMAND' } }),
    ]);
  });

  describe('behind the command consumer, on the real broker', () => {
    let commandTopic: string;
    let app: INestApplication;
    let raw: Producer;
    let deadLetters: TopicRecorder;

    /** Sent in one request, so the commands land in one batch of the topic's only partition, in this order. */
    async function send(...commands: VaultSetPasscodeCommand[]): Promise<void> {
      await raw.send({ topic: commandTopic, messages: commands.map((command) => ({ key: command.cardId, value: JSON.stringify(command) })) });
    }

    const lettersFor = (command: VaultSetPasscodeCommand): RecordedMessage[] =>
      deadLetters.messages.filter((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === commandTopic && JSON.parse(letter.value).commandId === command.commandId);

    /** What `npm run dlq -- replay` does with a letter: back to its topic, marked as replayed. */
    async function replay(letter: RecordedMessage): Promise<void> {
      const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith('pinflow-dlq-')));
      await raw.send({ topic: commandTopic, messages: [{ key: letter.key, value: letter.value, headers: { ...headers, [REPLAYED_FROM_HEADER]: `${DEAD_LETTER_TOPIC}@it` } }] });
    }

    beforeAll(async () => {
      commandTopic = `it.worker-kit.commands.${randomUUID()}`;
      await ensureTopics(kafka, [{ topic: commandTopic, partitions: 1 }], 1);
      raw = kafka.producer({ allowAutoTopicCreation: false });
      await raw.connect();
      deadLetters = await new TopicRecorder(testEnv().kafkaBrokers, [DEAD_LETTER_TOPIC]).start();
      // The kit's command handler on the pinflow transport, as a worker runs it, on a topic of its own.
      @Module({
        controllers: [commandHandler({ vendor: 'vault', topic: commandTopic, groupId: `it-${randomUUID()}`, commandsInFlight: 4 })],
        providers: [
          { provide: CommandRunner, useValue: runner },
          { provide: PinflowKafkaServer, useValue: new PinflowKafkaServer({ kafka, logger, groupId: `it-${randomUUID()}`, partitionsConsumedConcurrently: 1 }) },
        ],
      })
      class CommandHandlerModule {}
      app = await NestFactory.create(CommandHandlerModule, new FastifyAdapter(), { logger: false });
      await app.init();
      await connectKafkaTransport(app);
    });

    afterAll(async () => {
      await app?.close();
      await deadLetters?.stop();
      await raw?.disconnect();
    });

    it('works on other cards’ commands while one card’s vendor answers 503, and keeps each card’s commands in order', async () => {
      const [slow, quick] = [newCard(), newCard()];
      const [slowFirst, quickFirst, slowSecond, quickSecond] = await Promise.all([
        passcodeCommand(slow, '650193'),
        passcodeCommand(quick, '650194'),
        passcodeCommand(slow, '650195'),
        passcodeCommand(quick, '650196'),
      ]);
      const quickDone = async () => (await ledger.find(quickSecond.commandId))?.state === COMMAND_STATES.succeeded;
      // The slow card's vendor answers its second call only once the quick card is done: if the quick
      // card waited behind the slow one, this would never happen.
      const afterTheQuickCard = async () => {
        await waitFor('the quick card’s commands', quickDone, 20_000);
        return failing(503);
      };
      vendor.script(slow, failing(503), afterTheQuickCard, ok());

      await send(slowFirst, quickFirst, slowSecond, quickSecond);
      await waitFor('the slow card’s second command', async () => (await ledger.find(slowSecond.commandId))?.state === COMMAND_STATES.succeeded, 30_000);

      expect(vendor.callsFor(quick)).toEqual([`call ${quick} 1`, `call ${quick} 1`]);
      expect(vendor.callsFor(slow)).toEqual([`call ${slow} 1`, `call ${slow} 2`, `call ${slow} 3`, `call ${slow} 1`]);
      const changed = (await eventsFor(slow)).map((event) => event.data.commandId);
      expect(changed).toEqual([slowFirst.commandId, slowSecond.commandId]);
      expect(vendor.passcodes.slice(-1)).toEqual(['650195']);
    });

    it('dead-letters a command whose retries ran out; replayed, it runs again, while a replayed command of unknown outcome is not called', async () => {
      const [exhaustedCard, unknownCard] = [newCard(), newCard()];
      vendor.script(exhaustedCard, failing(503), failing(503), failing(503));
      vendor.script(unknownCard, timedOut);
      const exhausted = await passcodeCommand(exhaustedCard, '740215');
      const unknown = await passcodeCommand(unknownCard, '740216');

      await send(exhausted, unknown);
      await waitFor('two dead letters', async () => lettersFor(exhausted).length === 1 && lettersFor(unknown).length === 1, 30_000);
      expect(lettersFor(exhausted)[0].headers).toMatchObject({
        [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED',
        [DEAD_LETTER_HEADERS.detail]: 'VENDOR_UNAVAILABLE, vendor status 503',
        [DEAD_LETTER_HEADERS.attempts]: String(MAX_ATTEMPTS),
      });
      expect(lettersFor(unknown)[0].headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'OUTCOME_UNKNOWN' });

      // The card's next command comes after the replay, on the same lane: once it is done, so is the replay.
      const next = await passcodeCommand(unknownCard, '740217');
      await replay(lettersFor(unknown)[0]);
      await send(next);
      await replay(lettersFor(exhausted)[0]);
      const succeeded = (command: VaultSetPasscodeCommand) => async () => (await ledger.find(command.commandId))?.state === COMMAND_STATES.succeeded;
      await waitFor('the next command', succeeded(next), 30_000);
      await waitFor('the replayed command to succeed', succeeded(exhausted), 30_000);

      expect(vendor.callsFor(exhaustedCard)).toHaveLength(MAX_ATTEMPTS + 1);
      expect(vendor.passcodes.filter((passcode) => passcode === '740216')).toHaveLength(1);
      expect(await row(unknown.commandId)).toMatchObject({ state: 'FAILED' });
      // Give a replay that was wrongly dead-lettered again time to show up: neither was.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(lettersFor(exhausted)).toHaveLength(1);
      expect(lettersFor(unknown)).toHaveLength(1);
    });
  });
});
