import { commandTopic, EVENTS_TOPIC } from '@pinflow/contracts';
import { createDatabase, Database } from '@pinflow/db';
import { ProblemException, TemporarilyUnavailableException } from '@pinflow/http';
import { createKafka, EncodedMessage, ensureTopics, JsonProducer, pinflowTopicSpecs } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { Acceptance, HttpDoor } from './acceptance';
import type { IntakeConfig } from './config';
import { OutboxRelay } from './outbox-relay';
import { RequestRecord, RequestWriter } from './request-writer';
import { RequestsService, Submission } from './requests.service';
import { CardOwners } from './card-owners';

/** The real producer, except that its next send can be held until the test lets it go. */
class HoldableProducer extends JsonProducer {
  private held?: { entered: () => void; released: Promise<void> };

  holdNextSend(): { entered: Promise<void>; release: () => void } {
    let entered!: () => void;
    let release!: () => void;
    const enteredPromise = new Promise<void>((resolve) => (entered = resolve));
    this.held = { entered, released: new Promise<void>((resolve) => (release = resolve)) };
    return { entered: enteredPromise, release };
  }

  override async sendEncoded(messages: EncodedMessage[]): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.entered();
      await held.released;
    }
    await super.sendEncoded(messages);
  }
}

const RELAY_LOCK = 7_240_001;

describe('Accepting requests: group commit into the outbox, and the relay that publishes it', () => {
  const logger = createLogger('intake-int-spec', 'silent');
  let database: Database;
  let kafka: Kafka;
  let commands: TopicRecorder;
  let writer: RequestWriter;
  /** Where the messages of the records written directly go, once a relay publishes them. */
  const writerTopic = `it.intake-writer.${randomUUID()}`;
  const producers: JsonProducer[] = [];
  const relays: OutboxRelay[] = [];

  function intakeConfig(overrides: Partial<IntakeConfig> = {}): IntakeConfig {
    const settings = { DATABASE_URL: testEnv().databaseUrl, INTAKE_PUBLIC_BASE_URL: 'http://intake.test', INTAKE_OUTBOX_POLL_MS: 3_600_000, INTAKE_MAX_PENDING_ACCEPTANCES: 128, INTAKE_CARD_OWNERSHIP: 'open' as const };
    return { ...settings, ...overrides } as IntakeConfig;
  }

  async function connectedProducer(): Promise<HoldableProducer> {
    const producer = new HoldableProducer(kafka);
    await producer.connect();
    producers.push(producer);
    return producer;
  }

  /** A relay as an intake replica runs it; a poll that would take an hour unless a test says otherwise. */
  function startRelay(producer: JsonProducer, overrides: Partial<IntakeConfig> = {}): OutboxRelay {
    const relay = new OutboxRelay(producer, intakeConfig(overrides), logger);
    relay.onApplicationBootstrap();
    relays.push(relay);
    return relay;
  }

  /** A relay that is never started: acceptances wake it and nothing happens. */
  function idleRelay(): OutboxRelay {
    return new OutboxRelay(new JsonProducer(kafka), intakeConfig(), logger);
  }

  /** What a caller gets from intake: the answer, and the headers it set. */
  /** intake's HTTP door over a RequestsService of this writer and relay. */
  function httpDoor(relay: OutboxRelay, config = intakeConfig()): HttpDoor {
    return new HttpDoor(new RequestsService(writer, relay, config));
  }

  async function submit(door: HttpDoor, submission: Submission, options: { caller?: string; tenant?: string; idempotencyKey?: string } = {}) {
    const headers: Record<string, string> = {};
    const response = {
      header: (name: string, value: string) => (headers[name.toLowerCase()] = value),
    } as unknown as FastifyReply;
    const acceptance: Acceptance = { principal: { subject: options.caller ?? 'intake-spec', tenant: options.tenant, scopes: new Set() }, idempotencyKey: options.idempotencyKey ?? randomUUID(), response };
    const body = await door.accept(acceptance, submission);
    return { body, headers };
  }

  function increaseTries(cardId: string, blockCardExceedsCounter = false): Submission {
    const command = { vendor: 'pismo' as const, operation: 'increase_password_tries' as const, cardId, blockCardExceedsCounter };
    return { fingerprintSource: command, draft: async () => command };
  }

  function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
    const id = randomUUID();
    return {
      id,
      commandId: randomUUID(),
      vendor: 'pismo',
      operation: 'increase_password_tries',
      cardId: `writer-card-${id}`,
      caller: 'writer-spec',
      tenant: null,
      idempotencyKey: null,
      fingerprint: 'fingerprint',
      requiredOwner: null,
      messages: [{ topic: writerTopic, key: id, value: JSON.stringify({ id }), headers: { 'content-type': 'application/json' } }],
      ...overrides,
    };
  }

  /** What a repeat learns of the request it repeats: enough to answer it again. */
  function earlierOf({ id, commandId, vendor, operation, cardId, fingerprint }: RequestRecord) {
    return { id, commandId, vendor, operation, cardId, fingerprint };
  }

  async function stored(requestIds: string[]): Promise<{ requests: string[]; messages: number }> {
    const requests = await database.prisma.intakeRequest.findMany({ where: { id: { in: requestIds } }, select: { id: true } });
    const messages = await database.prisma.outboxMessage.count({ where: { key: { in: requestIds } } });
    return { requests: requests.map((request) => request.id).sort(), messages };
  }

  async function outboxIsEmpty(): Promise<void> {
    await waitFor('an empty outbox', async () => (await database.prisma.outboxMessage.count()) === 0, 30_000, 50);
  }

  async function relayLockHolders(): Promise<number[]> {
    const rows = await database.prisma.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = ${RELAY_LOCK} AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    return rows.map((row) => row.pid);
  }

  beforeAll(async () => {
    database = createDatabase(testEnv().databaseUrl, 4);
    const kafkaSettings = { KAFKA_BROKERS: testEnv().kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 3, KAFKA_EVENT_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 3 };
    kafka = createKafka(kafkaSettings, 'intake-int-spec', logger);
    await ensureTopics(kafka, [...pinflowTopicSpecs(kafkaSettings), { topic: writerTopic, partitions: 1 }], 1);
    commands = await new TopicRecorder(testEnv().kafkaBrokers, [commandTopic('pismo')]).start();
    writer = new RequestWriter(database.pool, logger);
  });

  afterAll(async () => {
    for (const relay of relays) await relay.beforeApplicationShutdown();
    for (const producer of producers) await producer.disconnect();
    await commands.stop();
    await database.prisma.$disconnect();
    await database.pool.end();
  });

  describe('group commit', () => {
    it('commits requests written together with their messages, and answers each once it is committed', async () => {
      const group = [record(), record(), record()];

      const outcomes = await Promise.all(group.map((request) => writer.write(request)));

      expect(outcomes).toEqual([{ written: true }, { written: true }, { written: true }]);
      expect(await stored(group.map((request) => request.id))).toEqual({ requests: group.map((request) => request.id).sort(), messages: 3 });
    });

    it('answers a duplicate key inside one group like a replay of the first request with it, which alone is recorded', async () => {
      const idempotencyKey = randomUUID();
      const first = record({ idempotencyKey, fingerprint: 'body-1' });
      const again = record({ idempotencyKey, fingerprint: 'body-1' });
      const reused = record({ idempotencyKey, fingerprint: 'body-2' });
      const otherCaller = record({ idempotencyKey, fingerprint: 'body-1', caller: 'someone-else' });

      const outcomes = await Promise.all([first, again, reused, otherCaller].map((request) => writer.write(request)));

      const earlier = { written: false, earlier: earlierOf(first) };
      expect(outcomes).toEqual([{ written: true }, earlier, earlier, { written: true }]);
      expect(await stored([first, again, reused, otherCaller].map((request) => request.id))).toEqual({ requests: [first.id, otherCaller.id].sort(), messages: 2 });
    });

    it('answers a key an earlier group recorded with that request', async () => {
      const idempotencyKey = randomUUID();
      const first = record({ idempotencyKey });
      await writer.write(first);

      const [repeat, fresh] = await Promise.all([writer.write(record({ idempotencyKey })), writer.write(record())]);

      expect(repeat).toEqual({ written: false, earlier: earlierOf(first) });
      expect(fresh).toEqual({ written: true });
    });

    it('fails only the callers of a failing group, and of them only the one PostgreSQL refuses', async () => {
      // PostgreSQL text cannot hold a NUL: this caller's row fails any statement that carries it.
      const refused = record({ caller: 'nul\u0000caller' });
      const sharingItsGroup = record();
      const failing = [refused, sharingItsGroup].map((request) => writer.write(request).then(() => 'written', () => 'refused'));
      // Queued while that group is being committed, so in the next one.
      await new Promise((resolve) => setImmediate(resolve));
      const queuedBehind = record();
      const following = writer.write(queuedBehind);

      expect(await Promise.all(failing)).toEqual(['refused', 'written']);
      expect(await following).toEqual({ written: true });
      expect(await stored([refused.id, sharingItsGroup.id, queuedBehind.id])).toEqual({ requests: [sharingItsGroup.id, queuedBehind.id].sort(), messages: 2 });
    });
  });

  describe('answers to callers', () => {
    it('answers a repeated Idempotency-Key with the first answer, and another body with the same key with 422, even when they race', async () => {
      const door = httpDoor(idleRelay());
      const idempotencyKey = randomUUID();
      const cardId = `race-card-${randomUUID()}`;

      const answers = await Promise.allSettled([
        submit(door, increaseTries(cardId), { idempotencyKey }),
        submit(door, increaseTries(cardId), { idempotencyKey }),
        submit(door, increaseTries(cardId, true), { idempotencyKey }),
      ]);

      const accepted = answers.filter((answer) => answer.status === 'fulfilled').map((answer) => answer.value);
      const rejected = answers.filter((answer) => answer.status === 'rejected').map((answer) => answer.reason as { getStatus(): number; getResponse(): { code: string } });
      // Whichever body came first is the request; the other body is refused for reusing its key.
      expect(accepted.length + rejected.length).toBe(3);
      expect(new Set(accepted.map((answer) => answer.body.requestId)).size).toBe(1);
      expect(accepted.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(accepted.length - 1);
      expect(rejected.map((problem) => [problem.getStatus(), problem.getResponse().code])).toEqual(rejected.map(() => [422, 'IDEMPOTENCY_KEY_REUSED']));
      expect(await database.prisma.intakeRequest.count({ where: { caller: 'intake-spec', idempotencyKey } })).toBe(1);
    });

    it("records the caller's tenant with the request and in its accepted event, for those who may read it later", async () => {
      const door = httpDoor(idleRelay());
      const cardId = `tenant-card-${randomUUID()}`;

      const { body } = await submit(door, increaseTries(cardId), { caller: 'acme-backend', tenant: 'acme' });

      expect(await database.prisma.intakeRequest.findUnique({ where: { id: body.requestId } })).toMatchObject({ caller: 'acme-backend', tenant: 'acme' });
      const [acceptedEvent] = await database.prisma.outboxMessage.findMany({ where: { topic: EVENTS_TOPIC, key: cardId } });
      expect(JSON.parse(acceptedEvent.value).data).toMatchObject({ requestId: body.requestId, caller: 'acme-backend', tenant: 'acme' });
    });

    it('answers 503 to a caller whose request could not be committed, and records nothing of it', async () => {
      const door = httpDoor(idleRelay());
      const cardId = `nul-tenant-card-${randomUUID()}`;

      // PostgreSQL text cannot hold a NUL: the row fails to commit (the Idempotency-Key lookup before it has no tenant in it).
      await expect(submit(door, increaseTries(cardId), { tenant: 'nul\u0000tenant' })).rejects.toBeInstanceOf(TemporarilyUnavailableException);

      expect(await database.prisma.intakeRequest.count({ where: { cardId } })).toBe(0);
    });
  });

  describe('card ownership', () => {
    /** Registers each card id (Pismo's) as the tenant's. */
    async function own(tenant: string, ...cardIds: string[]): Promise<void> {
      await new CardOwners(database.pool).assign(cardIds.map((cardId) => ({ tenant, vendor: 'pismo' as const, cardId })));
    }

    /** The problem a refused submission answers with. */
    async function refusalOf(answer: Promise<unknown>): Promise<[number, string]> {
      const problem = await answer.then(() => undefined, (error: unknown) => error);
      if (!(problem instanceof ProblemException)) throw new Error(`expected a problem, got ${String(problem)}`);
      return [problem.getStatus(), problem.problem.code];
    }

    it("records in one group only the requests whose card is their required owner's; the others record nothing, not even their messages", async () => {
      const acmeCard = `acme-card-${randomUUID()}`;
      const globexCard = `globex-card-${randomUUID()}`;
      await own('acme', acmeCard);
      await own('globex', globexCard);
      const ownCard = record({ cardId: acmeCard, requiredOwner: 'acme' });
      const othersCard = record({ cardId: globexCard, requiredOwner: 'acme' });
      const unregistered = record({ cardId: `nobodys-card-${randomUUID()}`, requiredOwner: 'acme' });
      const unchecked = record({ cardId: globexCard, requiredOwner: null });

      const outcomes = await Promise.all([ownCard, othersCard, unregistered, unchecked].map((request) => writer.write(request)));

      expect(outcomes).toEqual([{ written: true }, { written: false, cardNotOwned: true }, { written: false, cardNotOwned: true }, { written: true }]);
      expect(await stored([ownCard, othersCard, unregistered, unchecked].map((request) => request.id))).toEqual({ requests: [ownCard.id, unchecked.id].sort(), messages: 2 });
    });

    it("commits a repeat of a refused request's key on its own merits, as nothing holds the key", async () => {
      const idempotencyKey = randomUUID();
      const acmeCard = `acme-card-${randomUUID()}`;
      await own('acme', acmeCard);
      const refused = record({ idempotencyKey, cardId: `globex-card-${randomUUID()}`, requiredOwner: 'acme' });
      const repeatForOwnCard = record({ idempotencyKey, cardId: acmeCard, requiredOwner: 'acme' });

      const outcomes = await Promise.all([refused, repeatForOwnCard].map((request) => writer.write(request)));

      expect(outcomes).toEqual([{ written: false, cardNotOwned: true }, { written: true }]);
    });

    it("answers a write for another tenant's card exactly as for a card no tenant has: 404 CARD_NOT_FOUND, nothing published", async () => {
      const door = httpDoor(idleRelay(), intakeConfig({ INTAKE_CARD_OWNERSHIP: 'enforced' }));
      const acmeCard = `acme-card-${randomUUID()}`;
      const globexCard = `globex-card-${randomUUID()}`;
      await own('acme', acmeCard);
      await own('globex', globexCard);

      const accepted = await submit(door, increaseTries(acmeCard), { caller: 'acme-backend', tenant: 'acme' });
      const othersCard = await refusalOf(submit(door, increaseTries(globexCard), { caller: 'acme-backend', tenant: 'acme' }));
      const noOnesCard = await refusalOf(submit(door, increaseTries(`nobodys-card-${randomUUID()}`), { caller: 'acme-backend', tenant: 'acme' }));

      expect(accepted.body.status).toBe('accepted');
      expect([othersCard, noOnesCard]).toEqual([[404, 'CARD_NOT_FOUND'], [404, 'CARD_NOT_FOUND']]);
      expect(await database.prisma.outboxMessage.count({ where: { key: globexCard } })).toBe(0);
    });

    it('refuses a caller without a tenant before anything is drafted (403 TENANT_REQUIRED)', async () => {
      const door = httpDoor(idleRelay(), intakeConfig({ INTAKE_CARD_OWNERSHIP: 'enforced' }));
      const cardId = `acme-card-${randomUUID()}`;
      await own('acme', cardId);
      const submission = increaseTries(cardId);
      const draft = jest.spyOn(submission, 'draft');

      expect(await refusalOf(submit(door, submission, { caller: 'tenantless' }))).toEqual([403, 'TENANT_REQUIRED']);
      expect(draft).not.toHaveBeenCalled();
    });

    it('moves a re-imported card to its new tenant, and takes a removed card away from every tenant', async () => {
      const registry = new CardOwners(database.pool);
      const [sold, closed, kept] = ['sold', 'closed', 'kept'].map((name) => `${name}-card-${randomUUID()}`);
      await own('acme', sold, closed, kept);
      const door = httpDoor(idleRelay(), intakeConfig({ INTAKE_CARD_OWNERSHIP: 'enforced' }));

      expect(await registry.assign([sold, kept].map((cardId) => ({ tenant: cardId === sold ? 'globex' : 'acme', vendor: 'pismo' as const, cardId })))).toEqual({ added: 0, moved: 1, unchanged: 1 });
      expect(await registry.remove([{ vendor: 'pismo', cardId: closed }])).toBe(1);

      expect(await refusalOf(submit(door, increaseTries(sold), { caller: 'acme-backend', tenant: 'acme' }))).toEqual([404, 'CARD_NOT_FOUND']);
      expect(await refusalOf(submit(door, increaseTries(closed), { caller: 'acme-backend', tenant: 'acme' }))).toEqual([404, 'CARD_NOT_FOUND']);
      expect((await submit(door, increaseTries(sold), { caller: 'globex-backend', tenant: 'globex' })).body.status).toBe('accepted');
      expect((await submit(door, increaseTries(kept), { caller: 'acme-backend', tenant: 'acme' })).body.status).toBe('accepted');
    });
  });

  describe('outbox relay', () => {
    it('publishes what was committed while it was sending a batch, without waiting for its next poll', async () => {
      const producer = await connectedProducer();
      const relay = startRelay(producer);
      const door = httpDoor(relay);
      await outboxIsEmpty();

      const firstSend = producer.holdNextSend();
      const first = await submit(door, increaseTries(`wake-card-${randomUUID()}`));
      await firstSend.entered;
      const second = await submit(door, increaseTries(`wake-card-${randomUUID()}`));
      firstSend.release();

      await commands.waitForJson(commandTopic('pismo'), (command) => command.requestId === first.body.requestId);
      await commands.waitForJson(commandTopic('pismo'), (command) => command.requestId === second.body.requestId);
      await outboxIsEmpty();
    });

    it('relays from one replica at a time, and goes on relaying when that replica loses its connection', async () => {
      const replicas = [startRelay(await connectedProducer(), { INTAKE_OUTBOX_POLL_MS: 50 }), startRelay(await connectedProducer(), { INTAKE_OUTBOX_POLL_MS: 50 })];
      const door = httpDoor(replicas[0]);
      await outboxIsEmpty();
      await waitFor('a relay holding the relay lock', async () => (await relayLockHolders()).length === 1, 30_000, 50);
      const [holder] = await relayLockHolders();

      await database.prisma.$queryRaw`SELECT pg_terminate_backend(${holder})`;
      const accepted = await submit(door, increaseTries(`takeover-card-${randomUUID()}`));

      await commands.waitForJson(commandTopic('pismo'), (command) => command.requestId === accepted.body.requestId);
      await outboxIsEmpty();
      expect(await relayLockHolders()).toHaveLength(1);
    });
  });
});
