import { PIN_WRITE_SCOPE } from '@pinflow/auth';
import { commandTopic, EVENT_TYPES } from '@pinflow/contracts';
import { testEnv, waitFor } from '@pinflow/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KafkaDoorSuite, startKafkaDoorSuite } from './kafka-door-support';

describe("Card ownership end to end: a write for another tenant's card is refused at both doors", () => {
  const PINS = { own: '739146', foreign: '815263' };
  let suite: KafkaDoorSuite;
  let acmeToken: string;
  const acmeCard = `acme-${randomUUID().slice(0, 8)}`;
  const globexCard = `globex-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    suite = await startKafkaDoorSuite({
      apps: ['sandbox-pismo', 'worker-pismo', 'intake'],
      env: { intake: { INTAKE_CARD_OWNERSHIP: 'enforced' } },
      tenants: { 'core-banking': 'acme', 'card-lifecycle': 'globex' },
      writer: 'acme-backend',
      topics: [commandTopic('pismo')],
    });
    acmeToken = await suite.stack.secrets.token([PIN_WRITE_SCOPE], { subject: 'acme-backend', tenant: 'acme' });
    // Registered as an administrator would: the portfolios imported with `npm run cards -- import` (built by the global setup).
    const portfolios = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-card-owners-')), 'portfolios.csv');
    writeFileSync(portfolios, `# tenant,vendor,cardId\nacme,pismo,${acmeCard}\nglobex,pismo,${globexCard}\n`);
    const imported = execFileSync(process.execPath, [path.join(__dirname, '../dist/tools/cards.js'), 'import', portfolios], { env: { ...process.env, DATABASE_URL: testEnv().databaseUrl }, encoding: 'utf8' });
    expect(imported).toBe('2 cards read: 2 added, 0 moved to another tenant, 0 unchanged\n');
    for (const cardId of [acmeCard, globexCard]) await suite.client.seedCard(cardId);
  }, 180_000);

  afterAll(() => suite?.stop(), 60_000);

  it("answers the HTTP door's PIN change and card blocking for another tenant's card, or an unknown one, with 404 CARD_NOT_FOUND, and publishes no command", async () => {
    const { client } = suite;
    const foreignPin = await client.changePin(globexCard, { encryptedPin: await client.encrypt(PINS.foreign) }, { token: acmeToken });
    const foreignBlock = await client.submit(`/v1/pismo/cards/${globexCard}/password-tries/increase`, { blockCardExceedsCounter: true }, { token: acmeToken });
    const unknownCard = await client.submit(`/v1/pismo/cards/nobody-${randomUUID().slice(0, 8)}/password-tries/increase`, { blockCardExceedsCounter: true }, { token: acmeToken });
    const ownPin = await client.changePin(acmeCard, { encryptedPin: await client.encrypt(PINS.own) }, { token: acmeToken });

    expect([foreignPin, foreignBlock, unknownCard].map((answer) => [answer.status, answer.body.code])).toEqual([
      [404, 'CARD_NOT_FOUND'],
      [404, 'CARD_NOT_FOUND'],
      [404, 'CARD_NOT_FOUND'],
    ]);
    // The two refusals of an existing and an unknown card are the same document: no telling which exists.
    expect(foreignBlock.body).toEqual(unknownCard.body);
    expect(ownPin.status).toBe(202);
    expect((await client.outcome(ownPin.body.requestId)).status).toBe('succeeded');
    expect(suite.commandsFor(globexCard)).toEqual([]);
  });

  it('refuses a token without a tenant with 403 TENANT_REQUIRED', async () => {
    const answer = await suite.client.submit(`/v1/pismo/cards/${acmeCard}/password-tries/increase`, { blockCardExceedsCounter: false });

    expect([answer.status, answer.body.code]).toEqual([403, 'TENANT_REQUIRED']);
  });

  it("answers a Kafka request for another tenant's card with a rejected event carrying CARD_NOT_FOUND, and takes the requester's own", async () => {
    const foreign = randomUUID();
    const own = randomUUID();
    const request = (clientRequestId: string, cardId: string) => ({ schemaVersion: 1, clientRequestId, vendor: 'pismo', operation: 'increase_password_tries', cardId, body: { blockCardExceedsCounter: false } });

    await suite.publish(globexCard, request(foreign, globexCard));
    await suite.publish(acmeCard, request(own, acmeCard));

    expect(await suite.answerTo(foreign)).toMatchObject({ type: EVENT_TYPES.rejected, subject: globexCard, data: { caller: 'core-banking', problem: { status: 404, code: 'CARD_NOT_FOUND' } } });
    const accepted = await suite.answerTo(own);
    expect(accepted).toMatchObject({ type: EVENT_TYPES.accepted, data: { caller: 'core-banking', tenant: 'acme' } });
    expect(suite.commandsFor(globexCard)).toEqual([]);
    await waitFor("the requester's own command", async () => suite.commandsFor(acmeCard).includes(accepted.data.commandId));
  });
});
