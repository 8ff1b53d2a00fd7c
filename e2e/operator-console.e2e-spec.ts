import { PIN_READ_SCOPE } from '@pinflow/auth';
import { commandTopic, EVENTS_TOPIC } from '@pinflow/contracts';
import { waitFor } from '@pinflow/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { http, PinflowClient, shortPinOccurrences, startSuite, Suite } from './support';

/** Debian's chromium (`apt-get install chromium`, as .ci/run does), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Set to a path (docs/operator-console.png for the README) to keep a screenshot of the console after the replay. */
const SCREENSHOT = process.env.CONSOLE_SCREENSHOT;

/**
 * The operator console in a real headless Chromium against a real stack: an operator signs in with
 * a token, finds a card's PIN change and its request's timeline, and replays a dead letter, which
 * then succeeds. Nothing the page receives holds a PIN or a JWE.
 */
describe('operator console in a browser', () => {
  const PINS = { first: '4829', replayed: '5930' };
  let suite: Suite;
  let client: PinflowClient;
  let browser: Browser;
  let page: Page;
  /** Every body the page was answered with: what a secret reaching the page would show up in. */
  const received: string[] = [];
  /** Takes the services' spans and drops them: tracing on, so that events carry the trace they travelled in. */
  const collector = createServer((request, response) => request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}')));
  const newCard = () => `console-${randomUUID().slice(0, 8)}`;
  /** Who the console's replays are recorded as: the subject of suite.readToken, which the console signs in with. */
  const OPERATOR = 'back-office';
  /** The dead letter the outage test replayed: its offset and its card. */
  let replayed: { offset: string; cardId: string } | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install Debian's with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH`);
    }
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const tracing = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` };
    suite = await startSuite({
      apps: ['intake', 'worker-pismo', 'sandbox-pismo', 'audit'],
      env: {
        intake: tracing,
        audit: tracing,
        // Two quick attempts: a vendor outage dead-letters a command within a second.
        'worker-pismo': { ...tracing, PISMO_RETRY_BASE_MS: '50', PISMO_MAX_ATTEMPTS: '2' },
      },
      writer: 'console-e2e-backend',
      topics: [commandTopic('pismo'), EVENTS_TOPIC],
    });
    client = suite.client;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    page.on('response', (response) => {
      void response.text().then((text) => received.push(text), () => undefined);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await suite?.stop();
    collector.close();
  }, 60_000);

  const textOf = (selector: string) => page.$eval(selector, (element) => element.textContent ?? '');
  /** Waits for the page to show text in `selector` that `shown` accepts (the page fetches, then writes), and returns it. */
  const textShown = (selector: string, shown: (text: string) => boolean = (text) => text !== '') =>
    waitFor(`${selector} to show its answer`, async () => {
      const text = await textOf(selector);
      return shown(text) && text;
    });
  const rowsOf = async (tbody: string) =>
    Promise.all((await page.$$(`${tbody} tr`)).map((row) => row.$$eval('td', (cells) => cells.map((cell) => cell.textContent?.trim() ?? ''))));

  async function searchCard(cardId: string): Promise<void> {
    await page.locator('#card-id').fill(cardId);
    await page.click('#card-form button[type=submit]');
    await textShown('#card-summary', (text) => text.startsWith(`card ${cardId}:`));
  }

  it('serves the page under a strict Content-Security-Policy and refuses a token without the operator scope', async () => {
    const response = await page.goto(`${suite.stack.urls.audit}/console`);

    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    await page.type('#token', await suite.stack.secrets.token([PIN_READ_SCOPE], { subject: 'not-an-operator' }));
    await page.click('#sign-in-form button[type=submit]');
    expect(await textShown('#sign-in-error')).toBe('the token lacks a scope the console needs: pin:read and pinflow:operator.');
    expect(await page.$eval('#console', (element) => element.hasAttribute('hidden'))).toBe(true);
  });

  it("signs in with an operator token, shows every vendor's health, finds a card's PIN change and opens its request's timeline", async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    // The issuer's backend sends its own trace context: the change continues that trace.
    const traceId = randomBytes(16).toString('hex');
    const accepted = await http('POST', `${suite.stack.urls.intake}/v1/pismo/cards/${cardId}/pin`, {
      token: suite.writeToken,
      body: { encryptedPin: await client.encrypt(PINS.first) },
      headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');
    // The audit trail is fed from Kafka, after intake learns the outcome.
    await waitFor('the change in the audit trail', async () => (await client.auditRequest(accepted.body.requestId)).body.status === 'succeeded');

    await page.locator('#token').fill(suite.readToken);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#console:not([hidden])');
    await page.waitForSelector('#vendors-rows tr');
    const vendors = await rowsOf('#vendors-rows');
    expect(vendors.map((row) => row[0])).toEqual(['pismo', 'solaris', 'thales-d1', 'vault']);
    // Other suites' Pismo failures of the last minutes may count too: the change made here is a success at least.
    expect(vendors[0].slice(1, 3)).toEqual([expect.stringMatching(/^(healthy|degraded|failing)$/), expect.stringMatching(/^[1-9]\d*$/)]);

    await searchCard(cardId);
    expect(await rowsOf('#card-events')).toEqual([
      [expect.any(String), 'pin_change.accepted', 'pismo', 'change_pin', accepted.body.requestId, 'accepted'],
      [expect.any(String), 'card.password.changed', 'pismo', '—', accepted.body.requestId, 'succeeded'],
    ]);

    await page.click('#card-events a.request');
    expect(await textShown('#request-summary')).toBe(`request ${accepted.body.requestId}: succeeded · pismo change_pin on card ${cardId}`);
    expect((await rowsOf('#request-events')).map((row) => row.slice(1))).toEqual([
      ['pin_change.accepted', 'pismo', 'change_pin', 'accepted', traceId],
      // Pismo's own event echoes only the cid: the worker resumes the change's trace from its ledger.
      ['card.password.changed', 'pismo', '—', 'succeeded', traceId],
    ]);
  });

  it('lists the dead letter a vendor outage left, with its reason, and replays it: the PIN change then succeeds', async () => {
    const cardId = newCard();
    await client.seedCard(cardId);
    await client.sandbox('PUT', '/sandbox/knobs', { down: true });
    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt(PINS.replayed) });
    expect((await client.outcome(accepted.body.requestId)).status).toBe('failed');
    await client.sandbox('PUT', '/sandbox/knobs', { down: false });

    const letter = await waitFor('the dead letter in the console', async () => {
      await page.click('#dead-letters-refresh');
      await textShown('#dead-letters-total');
      return (await rowsOf('#dead-letters-rows')).find((row) => row[6] === cardId);
    });
    expect(letter.slice(2, 6)).toEqual(['RETRIES_EXHAUSTED', 'VENDOR_UNAVAILABLE, vendor status 503', expect.stringMatching(/^pinflow\.commands\.pismo\.v1\[\d+\]@\d+$/), 'pinflow-worker-pismo']);

    await page.click(`#dead-letters-rows button[data-offset="${letter[0]}"]`);
    expect(await textShown('#dead-letters-status')).toBe(`Replayed letter ${letter[0]} to pinflow.commands.pismo.v1.`);
    expect(await textOf(`#dead-letters-rows td[data-offset="${letter[0]}"] .replay-summary`)).toMatch(/^Replayed at \d{4}-\d\d-\d\dT/);
    replayed = { offset: letter[0], cardId };

    await waitFor('the replayed change in the audit trail', async () => (await client.auditRequest(accepted.body.requestId)).body.status === 'succeeded');
    await searchCard(cardId);
    expect((await rowsOf('#card-events')).map((row) => [row[1], row[5]])).toEqual([
      ['pin_change.accepted', 'accepted'],
      ['pin_change.failed', 'failed VENDOR_UNAVAILABLE (vendor HTTP 503)'],
      ['card.password.changed', 'succeeded'],
    ]);
    expect((await client.sandbox('POST', `/sandbox/cards/${cardId}/verify-pin`, { pin: PINS.replayed })).body).toEqual({ matches: true });

    await page.click('#vendors-refresh');
    await textShown('#vendors-rows', (text) => text.includes('VENDOR_UNAVAILABLE'));
    const [pismo] = await rowsOf('#vendors-rows');
    expect(pismo[1]).toMatch(/^(degraded|failing)$/);
    expect(pismo[5]).toMatch(/VENDOR_UNAVAILABLE ×[1-9]/);
    if (SCREENSHOT) await page.screenshot({ path: path.resolve(SCREENSHOT), fullPage: true });
  });

  it('still shows a replayed letter as replayed after the page is reloaded, with no Replay button; audit refuses a second replay unless forced, and the console lists both', async () => {
    if (!replayed) throw new Error('the replay test above did not get as far as the replay');
    const { offset, cardId } = replayed;
    const replayCell = `#dead-letters-rows td[data-offset="${offset}"]`;
    const replaysShown = () => page.$$eval(`${replayCell} ol.replays li`, (items) => items.map((item) => item.textContent ?? ''));

    await page.reload();
    await page.locator('#token').fill(suite.readToken);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#dead-letters-rows tr');
    const row = (await rowsOf('#dead-letters-rows')).find((cells) => cells[0] === offset);

    expect(row?.[6]).toBe(cardId);
    const firstAt = (await textOf(`${replayCell} .replay-summary`)).replace('Replayed at ', '');
    expect(firstAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(await replaysShown()).toEqual([`${firstAt} by ${OPERATOR}`]);
    expect(await page.$(`#dead-letters-rows button[data-offset="${offset}"]`)).toBeNull();

    const replay = (body: object) => http('POST', `${suite.stack.urls.audit}/v1/operator/dead-letters/replay`, { token: suite.readToken, body });
    const partition = (await http('GET', `${suite.stack.urls.audit}/v1/operator/dead-letters`, { token: suite.readToken })).body.letters.find(
      (letter: { offset: string; key: string }) => letter.offset === offset && letter.key === cardId,
    ).partition;
    const again = await replay({ partition, offset });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'DEAD_LETTER_ALREADY_REPLAYED', replayedAt: firstAt });
    const forced = await replay({ partition, offset, force: true });
    expect(forced.status).toBe(200);
    const [first, second] = forced.body.replayed.replays;
    expect(first.replayedAt).toBe(firstAt);
    expect(second.replayedAt > firstAt).toBe(true);

    await page.click('#dead-letters-refresh');
    expect(await textShown(`${replayCell} .replay-summary`, (text) => text.startsWith('Replayed 2 times'))).toBe(`Replayed 2 times, last at ${second.replayedAt}`);
    expect(await replaysShown()).toEqual([`${firstAt} by ${OPERATOR}`, `${second.replayedAt} by ${OPERATOR}`]);
  });

  it('never hands the page a PIN or an encrypted PIN', () => {
    const everything = received.join('\n');
    expect(received.length).toBeGreaterThan(0);
    expect(shortPinOccurrences(everything, Object.values(PINS))).toEqual([]);
    // A compact JWE: five base64url segments.
    expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
