import { DEV_AUDIENCE, DEV_ISSUER, DevSigningKey, generateDevSigningKey, mintToken, OPERATOR_SCOPE, PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { buildEvent, EVENTS_TOPIC, EVENT_TYPES, PinflowEvent } from '@pinflow/contracts';
import { createKafka, JsonProducer, MESSAGE_SIGNATURE_HEADER, MessageKeyFiles, writeMessageKeyFiles } from '@pinflow/kafka';
import { createLogger } from '@pinflow/logging';
import { appEntry, freePort, ServiceProcess, testEnv, waitFor, waitForReady } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka } from 'kafkajs';
import { Client } from 'pg';


interface HttpResult {
  status: number;
  contentType: string | null;
  body: any;
}

const SOURCE = 'urn:pinflow:audit-int-spec';
const newCard = () => `audit-it-${randomUUID().slice(0, 8)}`;

describe('the audit service', () => {
  let work: string;
  let service: ServiceProcess;
  let baseUrl: string;
  let kafka: Kafka;
  let producer: JsonProducer;
  let messageKeys: MessageKeyFiles;
  let db: Client;
  let signingKey: DevSigningKey;
  /** An operator's: it sees every request and card. */
  let readToken: string;

  const token = (scopes: string[], caller: { subject: string; tenant?: string } = { subject: 'auditor' }) =>
    mintToken({ privateKey: signingKey.privateJwk, kid: signingKey.kid, issuer: DEV_ISSUER, audience: DEV_AUDIENCE, ...caller, scopes, expiresIn: '10m' });

  async function get(pathAndQuery: string, bearer: string | null = readToken): Promise<HttpResult> {
    const response = await fetch(`${baseUrl}${pathAndQuery}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    return { status: response.status, contentType: response.headers.get('content-type'), body: await response.json() };
  }

  async function storedRows(eventId: string): Promise<number> {
    const { rows } = await db.query<{ count: string }>('SELECT count(*) FROM audit_events WHERE event_id = $1', [eventId]);
    return Number(rows[0].count);
  }

  /** Resolves once the audit trail holds every one of these events. */
  async function recorded(events: PinflowEvent[]): Promise<void> {
    const ids = events.map((event) => event.id);
    await waitFor(`${ids.length} event(s) in audit_events`, async () => {
      const { rows } = await db.query<{ count: string }>('SELECT count(DISTINCT event_id) FROM audit_events WHERE event_id = ANY($1)', [ids]);
      return Number(rows[0].count) === ids.length;
    });
  }

  async function publish(...events: PinflowEvent[]): Promise<void> {
    await producer.publishEvents(events);
  }

  /** An event for one request on one card; the helpers below fill in the contract's fields. */
  const accepted = (cardId: string, requestId: string, commandId: string, by: { caller: string; tenant?: string } = { caller: 'issuer-app' }) =>
    buildEvent(EVENT_TYPES.accepted, { source: SOURCE, cardId, data: { vendor: 'pismo', requestId, commandId, operation: 'change_pin', ...by } });
  const passwordChanged = (cardId: string, requestId: string, commandId: string) =>
    buildEvent(EVENT_TYPES.passwordChanged, { source: SOURCE, cardId, data: { vendor: 'pismo', requestId, commandId, syncOfflinePin: false } });
  const failed = (cardId: string, requestId: string, commandId: string, detail = 'card is closed') =>
    buildEvent(EVENT_TYPES.failed, {
      source: SOURCE,
      cardId,
      data: { vendor: 'pismo', requestId, commandId, operation: 'change_pin', reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'WRN0001', detail } },
    });

  beforeAll(async () => {
    const { kafkaBrokers, databaseUrl } = testEnv();
    work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-audit-'));
    signingKey = await generateDevSigningKey();
    const publicKeyFile = path.join(work, 'auth-public-key.json');
    writeFileSync(publicKeyFile, JSON.stringify(signingKey.publicJwk));
    readToken = await token([PIN_READ_SCOPE, OPERATOR_SCOPE]);
    messageKeys = writeMessageKeyFiles(path.join(work, 'message-keys'));

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    service = new ServiceProcess(
      'audit',
      appEntry('audit'),
      {
        HOST: '127.0.0.1',
        PORT: String(port),
        // The most talkative level, so the search for event data in the log below covers everything.
        LOG_LEVEL: 'debug',
        KAFKA_BROKERS: kafkaBrokers,
        DATABASE_URL: databaseUrl,
        AUTH_ISSUER: DEV_ISSUER,
        AUTH_AUDIENCE: DEV_AUDIENCE,
        AUTH_PUBLIC_KEY_FILE: publicKeyFile,
        MESSAGE_SIGNERS_FILE: messageKeys.signersFile,
        AUDIT_CONSUMER_GROUP: `audit-it-${randomUUID()}`,
      },
      path.join(work, 'audit.log'),
    );
    service.start();

    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 6, KAFKA_EVENT_PARTITIONS: 6, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 6 },
      'audit-int-spec',
      createLogger('audit-int-spec', 'silent'),
    );
    // Stands for intake and every worker: each event signed by whoever may publish it.
    producer = new JsonProducer(kafka, messageKeys.rightfulSigners);
    db = new Client({ connectionString: databaseUrl });
    // Readiness includes the consumer having joined its group, and the topic exists by then.
    await Promise.all([waitForReady(service, baseUrl, 90_000), producer.connect(), db.connect()]);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await db?.end();
    await service?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('is live and ready once its consumer and database are', async () => {
    expect((await get('/health/live', null)).status).toBe(200);
    const ready = await get('/health/ready', null);
    expect(ready.status).toBe(200);
    expect(ready.body.info).toEqual({ database: { status: 'up' }, kafka: { status: 'up' } });
  });

  it('stores an event exactly once, however often it is delivered', async () => {
    const cardId = newCard();
    const event = accepted(cardId, randomUUID(), randomUUID());
    await publish(event, event);
    await publish(event);
    // Same card, same partition: once this one is stored, the copies before it were handled too.
    const after = passwordChanged(cardId, event.data.requestId, event.data.commandId);
    await publish(after);
    await recorded([after]);

    expect(await storedRows(event.id)).toBe(1);
    expect((await get(`/v1/cards/${cardId}/events`)).body.events.map((e: { id: string }) => e.id)).toEqual([after.id, event.id]);
  });

  it('answers what happened to a request: its events oldest first and the status they add up to', async () => {
    const cardId = newCard();
    const requestId = randomUUID();
    const commandId = randomUUID();
    const first = accepted(cardId, requestId, commandId);
    await publish(first);
    await recorded([first]);

    const pending = await get(`/v1/requests/${requestId}/events`);

    expect(pending.status).toBe(200);
    expect(pending.body).toEqual({
      requestId,
      status: 'accepted',
      events: [{ id: first.id, type: first.type, time: first.time, recordedAt: expect.any(String), subject: cardId, data: first.data, traceId: null }],
    });

    const outcome = passwordChanged(cardId, requestId, commandId);
    await publish(outcome);
    await recorded([outcome]);

    const done = await get(`/v1/requests/${requestId}/events`);

    expect(done.body.status).toBe('succeeded');
    expect(done.body.events.map((e: { id: string }) => e.id)).toEqual([first.id, outcome.id]);
    const [acceptedAt, changedAt] = done.body.events.map((e: { recordedAt: string }) => Date.parse(e.recordedAt));
    expect(changedAt).toBeGreaterThanOrEqual(acceptedAt);
  });

  it('reports a request that failed as failed, with the failure as the vendor described it', async () => {
    const cardId = newCard();
    const requestId = randomUUID();
    const commandId = randomUUID();
    const failure = failed(cardId, requestId, commandId);
    await publish(accepted(cardId, requestId, commandId), failure);
    await recorded([failure]);

    const history = await get(`/v1/requests/${requestId}/events`);

    expect(history.body.status).toBe('failed');
    expect(history.body.events[1].data).toEqual(failure.data);
  });

  it('answers 404 for a request it has no events of and 400 for a request id that is not a UUID', async () => {
    const unknown = await get(`/v1/requests/${randomUUID()}/events`);
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({ status: 404, code: 'REQUEST_NOT_FOUND' });

    const invalid = await get('/v1/requests/not-a-uuid/events');
    expect(invalid.status).toBe(400);
    expect(invalid.contentType).toMatch(/^application\/problem\+json/);
    expect(invalid.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ pointer: '/requestId' })] });
  });

  it("pages through a card's history newest first, vendor-raised events included", async () => {
    const cardId = newCard();
    const requestId = randomUUID();
    const commandId = randomUUID();
    const events: PinflowEvent[] = [
      accepted(cardId, requestId, commandId),
      buildEvent(EVENT_TYPES.issuerScriptRequested, { source: SOURCE, cardId, data: { vendor: 'pismo', requestId, commandId, scriptType: 'PIN_CHANGE', scriptStatus: 'PENDING' } }),
      passwordChanged(cardId, requestId, commandId),
      buildEvent(EVENT_TYPES.passwordTriesIncreased, { source: SOURCE, cardId, data: { vendor: 'pismo', vendorEventId: 'pismo-1' } }),
      buildEvent(EVENT_TYPES.cardBlocked, { source: SOURCE, cardId, data: { vendor: 'pismo', previousStatus: 'NORMAL' } }),
    ];
    await publish(...events);
    await recorded(events);
    const newestFirst = events.map((event) => event.id).reverse();

    const all = await get(`/v1/cards/${cardId}/events`);
    expect(all.body).toEqual({ cardId, events: expect.any(Array), nextCursor: null });
    expect(all.body.events.map((e: { id: string }) => e.id)).toEqual(newestFirst);
    expect(all.body.events[0]).toEqual({ id: events[4].id, type: EVENT_TYPES.cardBlocked, time: events[4].time, recordedAt: expect.any(String), subject: cardId, data: events[4].data, traceId: null });

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: HttpResult = await get(`/v1/cards/${cardId}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      pages.push(page.body.events.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 10);

    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
  });

  it('shows an operator an empty history for a card it has no events of', async () => {
    const cardId = newCard();
    expect((await get(`/v1/cards/${cardId}/events`)).body).toEqual({ cardId, events: [], nextCursor: null });
  });

  it.each([
    ['a limit of 0', '?limit=0', '/limit'],
    ['a limit above 200', '?limit=201', '/limit'],
    ['a limit that is not a whole number', '?limit=2.5', '/limit'],
    ['a cursor it did not hand out', '?cursor=bm90LWEtY3Vyc29y', '/cursor'],
  ])('refuses a card history query with %s (400)', async (_what, query, pointer) => {
    const response = await get(`/v1/cards/${newCard()}/events${query}`);
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ pointer })] });
  });

  it('refuses a card id the contract does not allow (400)', async () => {
    const response = await get(`/v1/cards/${'x'.repeat(65)}/events`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: '/cardId' })]);
  });

  it('has the database refuse to change or remove recorded events', async () => {
    const cardId = newCard();
    const event = accepted(cardId, randomUUID(), randomUUID());
    await publish(event);
    await recorded([event]);

    // Each attempt in its own rolled-back transaction: were the trigger missing, nothing shared is lost.
    const attempt = async (sql: string, params: unknown[] = []) => {
      await db.query('BEGIN');
      try {
        await db.query(sql, params);
      } finally {
        await db.query('ROLLBACK');
      }
    };
    await expect(attempt("UPDATE audit_events SET type = 'rewritten' WHERE event_id = $1", [event.id])).rejects.toThrow(/append-only: UPDATE/);
    await expect(attempt('DELETE FROM audit_events WHERE event_id = $1', [event.id])).rejects.toThrow(/append-only: DELETE/);
    await expect(attempt('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE/);

    const { rows } = await db.query('SELECT type FROM audit_events WHERE event_id = $1', [event.id]);
    expect(rows).toEqual([{ type: EVENT_TYPES.accepted }]);
  });

  describe('access', () => {
    const paths = () => [`/v1/requests/${randomUUID()}/events`, `/v1/cards/${newCard()}/events`];

    it('refuses callers without a bearer token (401)', async () => {
      for (const url of paths()) {
        const response = await get(url, null);
        expect(response.status).toBe(401);
        expect(response.contentType).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({ status: 401, code: 'TOKEN_MISSING' });
      }
    });

    it('refuses tokens without the pin:read scope (403)', async () => {
      const writeOnly = await token([PIN_WRITE_SCOPE]);
      for (const url of paths()) {
        const response = await get(url, writeOnly);
        expect(response.status).toBe(403);
        expect(response.body).toMatchObject({ status: 403, code: 'INSUFFICIENT_SCOPE' });
      }
    });

    describe("to a request's and a card's history", () => {
      // acme-backend, of tenant acme, changed the PIN of `card`; lone-backend, of no tenant, that of `loneCard`.
      const card = newCard();
      const loneCard = newCard();
      const request = { requestId: randomUUID(), commandId: randomUUID() };
      const loneRequest = { requestId: randomUUID(), commandId: randomUUID() };
      const readerToken = (subject: string, tenant?: string) => token([PIN_READ_SCOPE], { subject, tenant });

      beforeAll(async () => {
        const events = [
          accepted(card, request.requestId, request.commandId, { caller: 'acme-backend', tenant: 'acme' }),
          passwordChanged(card, request.requestId, request.commandId),
          accepted(loneCard, loneRequest.requestId, loneRequest.commandId, { caller: 'lone-backend' }),
        ];
        await publish(...events);
        await recorded(events);
      });

      it('opens them to the caller that made the request, to callers of its tenant and to operators', async () => {
        for (const bearer of [await readerToken('acme-backend', 'acme'), await readerToken('acme-back-office', 'acme'), readToken]) {
          const history = await get(`/v1/requests/${request.requestId}/events`, bearer);
          expect(history.status).toBe(200);
          expect(history.body.status).toBe('succeeded');
          const cardHistory = await get(`/v1/cards/${card}/events`, bearer);
          expect(cardHistory.status).toBe(200);
          expect(cardHistory.body.events).toHaveLength(2);
        }
        expect((await get(`/v1/requests/${loneRequest.requestId}/events`, await readerToken('lone-backend'))).status).toBe(200);
        expect((await get(`/v1/cards/${loneCard}/events`, await readerToken('lone-backend'))).status).toBe(200);
      });

      it('answers anyone else 404, exactly as for a request or card it has never seen', async () => {
        const neverSeenRequest = await get(`/v1/requests/${randomUUID()}/events`, await readerToken('globex-backend', 'globex'));
        const neverSeenCard = await get(`/v1/cards/${newCard()}/events`, await readerToken('globex-backend', 'globex'));
        expect(neverSeenRequest.body).toMatchObject({ status: 404, code: 'REQUEST_NOT_FOUND' });
        expect(neverSeenCard.body).toMatchObject({ status: 404, code: 'CARD_NOT_FOUND' });

        for (const bearer of [await readerToken('globex-backend', 'globex'), await readerToken('lone-backend')]) {
          expect(await get(`/v1/requests/${request.requestId}/events`, bearer)).toEqual(neverSeenRequest);
          expect(await get(`/v1/cards/${card}/events`, bearer)).toEqual(neverSeenCard);
        }
        // A tenant does not open what a caller without one did.
        expect(await get(`/v1/requests/${loneRequest.requestId}/events`, await readerToken('acme-backend', 'acme'))).toEqual(neverSeenRequest);
        expect(await get(`/v1/cards/${loneCard}/events`, await readerToken('acme-backend', 'acme'))).toEqual(neverSeenCard);
      });
    });
  });

  it("keeps the trace id of an event's W3C traceparent, which the request's history shows", async () => {
    const cardId = newCard();
    const requestId = randomUUID();
    const traced = accepted(cardId, requestId, randomUUID());
    const traceId = randomUUID().replaceAll('-', '');
    const raw = kafka.producer();
    await raw.connect();
    const value = Buffer.from(JSON.stringify(traced));
    const signature = messageKeys.rightfulSigners.sign(EVENTS_TOPIC, value);
    await raw.send({ topic: EVENTS_TOPIC, messages: [{ key: cardId, value, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, [MESSAGE_SIGNATURE_HEADER]: signature } }] });
    await raw.disconnect();
    await recorded([traced]);

    expect((await get(`/v1/requests/${requestId}/events`)).body.events).toEqual([expect.objectContaining({ id: traced.id, traceId })]);
  });

  describe('operator API', () => {
    const post = async (pathAndQuery: string, body: unknown, bearer: string = readToken): Promise<HttpResult> => {
      const response = await fetch(`${baseUrl}${pathAndQuery}`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, contentType: response.headers.get('content-type'), body: await response.json() };
    };

    it('is for operators only: pin:read alone is refused (403)', async () => {
      const reader = await token([PIN_READ_SCOPE], { subject: 'issuer-app' });
      for (const response of [
        await get('/v1/operator/dead-letters', reader),
        await get('/v1/operator/dead-letter-replays', reader),
        await get('/v1/operator/vendors', reader),
        await post('/v1/operator/dead-letters/replay', { partition: 0, offset: '0' }, reader),
      ]) {
        expect(response.body).toMatchObject({ status: 403, code: 'INSUFFICIENT_SCOPE' });
      }
    });

    it('replays only a letter the topic holds: 400 for what is not a partition and offset, 404 for an offset past its end', async () => {
      expect((await post('/v1/operator/dead-letters/replay', { partition: 0, offset: 'latest' })).status).toBe(400);
      expect((await post('/v1/operator/dead-letters/replay', { partition: 0, offset: '999999999' })).body).toMatchObject({ status: 404, code: 'DEAD_LETTER_NOT_FOUND' });
    });

    it("lists dead letters without their values, the history of their replays, and every vendor's health", async () => {
      const letters = await get('/v1/operator/dead-letters');
      expect(letters.status).toBe(200);
      expect(letters.body).toEqual({ total: expect.any(Number), letters: expect.any(Array) });
      for (const letter of letters.body.letters) expect(Object.keys(letter).sort()).toEqual(['at', 'attempts', 'detail', 'key', 'offset', 'partition', 'reason', 'replays', 'source']);

      const replays = await get('/v1/operator/dead-letter-replays');
      expect(replays.status).toBe(200);
      expect(replays.body).toEqual({ replays: expect.any(Array) });

      const health = await get('/v1/operator/vendors');
      expect(health.body.windowMinutes).toBe(15);
      expect(health.body.vendors.map((vendor: { vendor: string }) => vendor.vendor)).toEqual(['pismo', 'solaris', 'thales-d1', 'vault']);
    });
  });

  it('logs the ids and types of the events it records, never their data', async () => {
    const cardId = newCard();
    const canary = `canary-${randomUUID()}`;
    const event = failed(cardId, randomUUID(), randomUUID(), canary);
    await publish(event);
    await recorded([event]);
    expect((await get(`/v1/requests/${event.data.requestId}/events`)).body.events[0].data.vendorError.detail).toBe(canary);

    const log = await waitFor('the event in the service log', async () => {
      const text = readFileSync(service.logFile, 'utf8');
      return text.includes(event.id) ? text : undefined;
    });
    expect(log).not.toContain(canary);
  });
});
