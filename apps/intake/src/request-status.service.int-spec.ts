import { OPERATOR_SCOPE, PIN_READ_SCOPE, type AuthenticatedPrincipal } from '@pinflow/auth';
import { buildEvent, EVENT_TYPES, EventType, PinflowEvent } from '@pinflow/contracts';
import { createDatabase, Database, PrismaClient } from '@pinflow/db';
import { testEnv } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { RequestStatusService } from './request-status.service';

/** A pin:read token of `subject`, in `tenant`, with more scopes if given. */
function reader(subject: string, tenant?: string, ...scopes: string[]): AuthenticatedPrincipal {
  return { subject, ...(tenant ? { tenant } : {}), scopes: new Set([PIN_READ_SCOPE, ...scopes]) };
}

/** The caller that made the requests of this spec. */
const itsCaller = reader('status-spec', 'acme');

describe('RequestStatusService: what intake answers about a request, from the events on pinflow.events.v1', () => {
  let database: Database;
  let prisma: PrismaClient;
  let statuses: RequestStatusService;

  beforeAll(() => {
    database = createDatabase(testEnv().databaseUrl, 4);
    prisma = database.prisma;
    statuses = new RequestStatusService(database.pool);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await database.pool.end();
  });

  async function acceptedRequest(owner: { caller: string; tenant?: string } = { caller: itsCaller.subject, tenant: itsCaller.tenant }): Promise<{ requestId: string; commandId: string; cardId: string }> {
    const request = { requestId: randomUUID(), commandId: randomUUID(), cardId: `status-card-${randomUUID()}` };
    await prisma.intakeRequest.create({
      data: {
        id: request.requestId,
        commandId: request.commandId,
        vendor: 'pismo',
        operation: 'change_pin',
        cardId: request.cardId,
        caller: owner.caller,
        tenant: owner.tenant,
        requestFingerprint: 'fingerprint',
        status: 'accepted',
      },
    });
    return request;
  }

  function eventAbout(request: { requestId: string; commandId: string; cardId: string }, type: EventType, time: string, extra: Record<string, unknown> = {}): PinflowEvent {
    return buildEvent(type, {
      source: '/pinflow/worker-pismo',
      cardId: request.cardId,
      time: new Date(time),
      data: { vendor: 'pismo', requestId: request.requestId, commandId: request.commandId, ...extra },
    } as Parameters<typeof buildEvent>[1]) as PinflowEvent;
  }

  it('moves a request to succeeded at its outcome, and a redelivered event changes nothing', async () => {
    const request = await acceptedRequest();
    const changed = eventAbout(request, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z');

    await statuses.record([eventAbout(request, EVENT_TYPES.accepted, '2026-12-04T10:00:00.000Z', { operation: 'change_pin', caller: 'status-spec' })]);
    expect((await statuses.find(request.requestId, itsCaller))?.status).toBe('accepted');
    await statuses.record([changed]);
    await statuses.record([changed]);

    const status = await statuses.find(request.requestId, itsCaller);
    expect(status).toMatchObject({ status: 'succeeded', completedAt: '2026-12-04T10:00:02.000Z' });
    expect(status?.events.map((event) => event.type)).toEqual([EVENT_TYPES.accepted, EVENT_TYPES.passwordChanged]);
  });

  it('moves a request to failed at a failure event, and a success recorded after it outranks it', async () => {
    const request = await acceptedRequest();

    await statuses.record([eventAbout(request, EVENT_TYPES.failed, '2026-12-04T10:00:01.000Z', { operation: 'change_pin', reason: 'VENDOR_REJECTED', vendorStatus: 404 })]);
    expect(await statuses.find(request.requestId, itsCaller)).toMatchObject({ status: 'failed', completedAt: '2026-12-04T10:00:01.000Z' });
    await statuses.record([eventAbout(request, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:03.000Z')]);

    expect(await statuses.find(request.requestId, itsCaller)).toMatchObject({ status: 'succeeded', completedAt: '2026-12-04T10:00:03.000Z' });
  });

  it('keeps a success when a failure event comes after it', async () => {
    const request = await acceptedRequest();

    await statuses.record([eventAbout(request, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z')]);
    await statuses.record([eventAbout(request, EVENT_TYPES.failed, '2026-12-04T10:00:04.000Z', { operation: 'change_pin', reason: 'OUTCOME_UNKNOWN' })]);

    expect(await statuses.find(request.requestId, itsCaller)).toMatchObject({ status: 'succeeded', completedAt: '2026-12-04T10:00:02.000Z' });
  });

  it('ignores events about requests another deployment accepted', async () => {
    const stranger = { requestId: randomUUID(), commandId: randomUUID(), cardId: 'status-card-elsewhere' };

    await statuses.record([eventAbout(stranger, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z')]);

    expect(await statuses.find(stranger.requestId, itsCaller)).toBeUndefined();
    expect(await prisma.intakeRequestEvent.count({ where: { requestId: stranger.requestId } })).toBe(0);
  });

  it('decides each request of a fetched batch as recording its events one by one would', async () => {
    const [failedThenChanged, changedThenFailed, failedTwice, onlyAccepted] = await Promise.all([acceptedRequest(), acceptedRequest(), acceptedRequest(), acceptedRequest()]);
    const stranger = { requestId: randomUUID(), commandId: randomUUID(), cardId: 'status-card-elsewhere' };
    const failure = (request: { requestId: string; commandId: string; cardId: string }, time: string) => eventAbout(request, EVENT_TYPES.failed, time, { operation: 'change_pin', reason: 'VENDOR_REJECTED' });
    const redelivered = eventAbout(changedThenFailed, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z');

    await statuses.record([
      eventAbout(onlyAccepted, EVENT_TYPES.accepted, '2026-12-04T10:00:00.000Z', { operation: 'change_pin', caller: 'status-spec' }),
      failure(failedThenChanged, '2026-12-04T10:00:01.000Z'),
      redelivered,
      failure(failedTwice, '2026-12-04T10:00:01.000Z'),
      eventAbout(stranger, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z'),
      eventAbout(failedThenChanged, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:03.000Z'),
      redelivered,
      failure(changedThenFailed, '2026-12-04T10:00:04.000Z'),
      failure(failedTwice, '2026-12-04T10:00:05.000Z'),
    ]);

    expect(await statuses.find(failedThenChanged.requestId, itsCaller)).toMatchObject({ status: 'succeeded', completedAt: '2026-12-04T10:00:03.000Z' });
    expect(await statuses.find(changedThenFailed.requestId, itsCaller)).toMatchObject({ status: 'succeeded', completedAt: '2026-12-04T10:00:02.000Z' });
    expect(await statuses.find(failedTwice.requestId, itsCaller)).toMatchObject({ status: 'failed', completedAt: '2026-12-04T10:00:01.000Z' });
    expect(await statuses.find(onlyAccepted.requestId, itsCaller)).toMatchObject({ status: 'accepted', completedAt: null });
    expect((await statuses.find(changedThenFailed.requestId, itsCaller))?.events.map((event) => event.type)).toEqual([EVENT_TYPES.passwordChanged, EVENT_TYPES.failed]);
    expect(await prisma.intakeRequestEvent.count({ where: { requestId: stranger.requestId } })).toBe(0);
  });

  it('records the batches of partitions handled at once together, in two statements, each answered once its events are stored', async () => {
    const requests = await Promise.all([acceptedRequest(), acceptedRequest(), acceptedRequest()]);
    let statements = 0;
    const countingPool = Object.assign(Object.create(database.pool) as typeof database.pool, {
      query: (...args: Parameters<typeof database.pool.query>) => {
        statements += 1;
        return database.pool.query(...args);
      },
    });
    const together = new RequestStatusService(countingPool);

    await Promise.all(requests.map((request) => together.record([eventAbout(request, EVENT_TYPES.passwordChanged, '2026-12-04T10:00:02.000Z')])));

    expect(statements).toBe(2);
    for (const request of requests) expect(await statuses.find(request.requestId, itsCaller)).toMatchObject({ status: 'succeeded', events: [{ type: EVENT_TYPES.passwordChanged }] });
  });

  describe('who may see a request', () => {
    it('shows it to its caller, to callers of its tenant and to operators', async () => {
      const request = await acceptedRequest({ caller: 'acme-backend', tenant: 'acme' });

      for (const viewer of [reader('acme-backend', 'acme'), reader('acme-back-office', 'acme'), reader('pinflow-support', undefined, OPERATOR_SCOPE)]) {
        expect(await statuses.find(request.requestId, viewer)).toMatchObject({ requestId: request.requestId, status: 'accepted' });
      }
    });

    it('hides it from another caller and from another tenant, as if it did not exist', async () => {
      const request = await acceptedRequest({ caller: 'acme-backend', tenant: 'acme' });

      expect(await statuses.find(request.requestId, reader('globex-backend', 'globex'))).toBeUndefined();
      expect(await statuses.find(request.requestId, reader('lone-caller'))).toBeUndefined();
    });

    it('shows a request made without a tenant to its caller only', async () => {
      const request = await acceptedRequest({ caller: 'lone-caller' });

      expect(await statuses.find(request.requestId, reader('lone-caller'))).toMatchObject({ requestId: request.requestId });
      expect(await statuses.find(request.requestId, reader('other-caller'))).toBeUndefined();
    });
  });
});
