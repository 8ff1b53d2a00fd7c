import { OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';
import { HttpExchange, OpenApiContract, RunningApp, startAppProcess, testEnv } from '@pinflow/testing';
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PinBlockUpdate, PismoClient } from './pismo-client';
import { loadZonePinKey, ZonePinKey } from './zone-pin-key';

// Pismo's published OpenAPI for the Cards API, copied unchanged from the vendors' documents
// (../shared/specs) so that the test runs from any checkout; read at test time only. PINFLOW_SPECS_DIR
// checks against another copy (a newer one Pismo published).
const PISMO_OPENAPI = process.env.PINFLOW_SPECS_DIR ? path.join(process.env.PINFLOW_SPECS_DIR, 'pismo-cards-openapi.yaml') : path.join(__dirname, 'pismo-cards-openapi.yaml');
const CLIENT = { clientId: 'contract-it', clientSecret: 'contract-it-secret' };
const TOKEN_PATH = '/passport/v1/oauth2/token';
const ACCOUNT_ID = 8675309;
const PAN = '4000123412341234';
/** The zone PIN key worker and sandbox share, and one the sandbox does not know (same id, other key). */
const ZPK = { keyId: 'contract-zpk', key: '0123456789ABCDEFFEDCBA9876543210' };
const WRONG_ZPK = { keyId: 'contract-zpk', key: 'A1B2C3D4E5F60718293A4B5C6D7E8F90' };

/**
 * Stands between worker-pismo's client and sandbox-pismo and keeps every exchange as it crossed the
 * wire. `spoilTokens` replaces the bearer token the worker sends, as an expired one would read.
 */
class RecordingProxy {
  readonly exchanges: HttpExchange[] = [];
  spoilTokens = false;
  private server?: Server;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.forward(request).then(({ status, headers, body }) => response.writeHead(status, headers).end(body));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The exchanges with Pismo's card API, the token endpoint (another API of Pismo's) left out. */
  cardCalls(): HttpExchange[] {
    return this.exchanges.filter((exchange) => !exchange.url.startsWith(TOKEN_PATH));
  }

  private async forward(request: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const requestBody = Buffer.concat(chunks).toString('utf8');
    const requestHeaders = { ...request.headers };
    if (this.spoilTokens && requestHeaders.authorization?.startsWith('Bearer ')) requestHeaders.authorization = 'Bearer expired-or-revoked';
    const { host: _host, connection: _connection, 'content-length': _length, ...forwarded } = requestHeaders;
    const answer = await fetch(`${this.target}${request.url}`, {
      method: request.method,
      headers: Object.entries(forwarded).flatMap(([name, value]) => (value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value] as [string, string]])),
      body: requestBody === '' ? undefined : requestBody,
    });
    const body = await answer.text();
    const headers = Object.fromEntries([...answer.headers].filter(([name]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)));
    this.exchanges.push({ method: request.method!, url: request.url!, requestHeaders, requestBody, status: answer.status, responseHeaders: headers, responseBody: body });
    return { status: answer.status, headers, body };
  }
}

/**
 * worker-pismo's requests and sandbox-pismo's answers against Pismo's published OpenAPI, for every PIN
 * operation pinflow uses, its errors included: the simulator and the client cannot drift from Pismo
 * unnoticed. The client is the worker's own (PismoClient), over real HTTP, through a recording proxy.
 */
describe("worker-pismo and sandbox-pismo against Pismo's published OpenAPI", () => {
  let contract: OpenApiContract;
  let sandbox: RunningApp;
  let proxy: RecordingProxy;
  let pismo: PismoClient;
  let zpk: ZonePinKey;
  let wrongZpk: ZonePinKey;
  const keyFile = (key: object) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pismo-contract-')), 'zpk.json');
    writeFileSync(file, JSON.stringify(key));
    return file;
  };
  const pinBlock = (pin: string, key = zpk, keyId = key.keyId): PinBlockUpdate => ({ pinBlock: key.pinBlock(pin, PAN), keyId, syncOfflinePin: false });

  /** A Pismo card id (Pismo's are integers), seeded in the sandbox. */
  async function seedCard(card: Record<string, unknown> = {}): Promise<string> {
    const cardId = String(randomInt(1_000_000, 2 ** 31));
    const seeded = await fetch(`${sandbox.baseUrl}/sandbox/cards/${cardId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountId: ACCOUNT_ID, ...card }),
    });
    if (seeded.status !== 200) throw new Error(`seeding ${cardId} failed: ${seeded.status}`);
    return cardId;
  }

  const unknownCard = () => String(randomInt(2 ** 31, 2 ** 40));

  async function setKnobs(knobs: Record<string, unknown>): Promise<void> {
    await fetch(`${sandbox.baseUrl}/sandbox/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(knobs) });
  }

  /** Makes the calls, checks their statuses, and gives every violation of the contract in their exchanges. */
  async function exchanged(calls: () => Promise<VendorCallResult[]>, statuses: number[]): Promise<string[]> {
    const before = proxy.cardCalls().length;
    const results = await calls();
    expect(results.map((result) => (result.kind === 'answered' ? result.status : result.kind))).toEqual(statuses);
    const exchanges = proxy.cardCalls().slice(before);
    expect(exchanges.length).toBeGreaterThanOrEqual(results.length);
    return exchanges.flatMap((exchange) => {
      const at = `${exchange.method} ${exchange.url} → ${exchange.status}: `;
      return [...contract.requestViolations(exchange).map((problem) => `${at}request: ${problem}`), ...contract.responseViolations(exchange).map((problem) => `${at}answer: ${problem}`)];
    });
  }

  beforeAll(async () => {
    if (!existsSync(PISMO_OPENAPI)) throw new Error(`Pismo's OpenAPI is not at ${PISMO_OPENAPI}: set PINFLOW_SPECS_DIR to the directory of the vendors' specs`);
    contract = await OpenApiContract.load(PISMO_OPENAPI);
    const zpkFile = keyFile(ZPK);
    zpk = loadZonePinKey(zpkFile);
    wrongZpk = loadZonePinKey(keyFile(WRONG_ZPK));
    sandbox = await startAppProcess('sandbox-pismo', {
      KAFKA_BROKERS: testEnv().kafkaBrokers,
      PISMO_ZPK_FILE: zpkFile,
      PISMO_EVENTS_TOPIC: `it.pismo.contract.${randomUUID()}`,
      PISMO_EVENTS_PARTITIONS: '1',
      SANDBOX_CLIENT_ID: CLIENT.clientId,
      SANDBOX_CLIENT_SECRET: CLIENT.clientSecret,
    });
    proxy = new RecordingProxy(sandbox.baseUrl);
    const proxyUrl = await proxy.start();
    const http = new OAuth2HttpClient({ tokenUrl: `${proxyUrl}${TOKEN_PATH}`, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, authStyle: 'body', timeoutMs: 5000 });
    pismo = new PismoClient(http, { pciBaseUrl: proxyUrl, apiBaseUrl: proxyUrl });
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop();
    await sandbox?.stop();
  }, 60_000);

  afterEach(() => setKnobs({ errorRate: 0 }));

  it('changes a password (PUT /pcicards/v2/pcicards/card/{cardId}): 201, and 403 and 404', async () => {
    const cardId = await seedCard();
    const canceled = await seedCard({ status: 'CANCELED' });
    const violations = await exchanged(
      async () => [
        await pismo.changePin(cardId, '739146', false, randomUUID()),
        await pismo.changePin(cardId, '582047', true, randomUUID()),
        await pismo.changePin(canceled, '904317', false, randomUUID()),
        await pismo.changePin(unknownCard(), '630958', false, randomUUID()),
      ],
      [201, 201, 403, 404],
    );
    expect(violations).toEqual([]);
  });

  it('increases password tries (POST /wallet/v2/cards/{cardId}/password-tries/increase): 200, and 403', async () => {
    const cardId = await seedCard();
    const canceled = await seedCard({ status: 'CANCELED' });
    const violations = await exchanged(
      async () => [await pismo.increasePasswordTries(cardId, true, randomUUID()), await pismo.increasePasswordTries(cardId, false, randomUUID()), await pismo.increasePasswordTries(canceled, true, randomUUID())],
      [200, 200, 403],
    );
    expect(violations).toEqual([]);
  });

  it('resets password tries (POST /wallet/v2/cards/{cardId}/password-tries/reset): 200, and 406', async () => {
    const blocked = await seedCard({ status: 'BLOCKED' });
    const canceled = await seedCard({ status: 'CANCELED' });
    const violations = await exchanged(async () => [await pismo.resetPasswordTries(blocked, randomUUID()), await pismo.resetPasswordTries(canceled, randomUUID())], [200, 406]);
    expect(violations).toEqual([]);
  });

  it('answers a card Pismo does not have on the wallet host as the document allows', async () => {
    const violations = await exchanged(async () => [await pismo.increasePasswordTries(unknownCard(), true, randomUUID()), await pismo.resetPasswordTries(unknownCard(), randomUUID())], [403, 403]);
    expect(violations).toEqual([]);
  });

  it('syncs the offline PIN (POST /pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin): 204, and 403 and 404', async () => {
    const cardId = await seedCard();
    const canceled = await seedCard({ status: 'CANCELED' });
    const violations = await exchanged(
      async () => [await pismo.syncOfflinePin(cardId, randomUUID()), await pismo.syncOfflinePin(canceled, randomUUID()), await pismo.syncOfflinePin(unknownCard(), randomUUID())],
      [204, 403, 404],
    );
    expect(violations).toEqual([]);
  });

  it('appends a PIN update script (POST /pcicards/v1/pcicards/{cardId}/scripts/pin-update): 200, and 403 and 404', async () => {
    const cardId = await seedCard();
    const canceled = await seedCard({ status: 'CANCELED' });
    const script = (accountId = String(ACCOUNT_ID)) => ({ scriptId: 'issuer-pin-update', accountId, pin: '815263' });
    const violations = await exchanged(
      async () => [
        await pismo.appendPinUpdateScript(cardId, script(), randomUUID()),
        await pismo.appendPinUpdateScript(canceled, script(), randomUUID()),
        await pismo.appendPinUpdateScript(cardId, script('1234'), randomUUID()),
      ],
      [200, 403, 404],
    );
    expect(violations).toEqual([]);
  });

  it('appends a PIN update script from a PIN block (pin_block + key_id): 200, and 400 for a block it cannot read, 403 for a key it does not hold', async () => {
    const cardId = await seedCard({ pan: PAN });
    const script = (block: PinBlockUpdate) => ({ scriptId: 'issuer-pin-update', accountId: String(ACCOUNT_ID), pinBlock: block.pinBlock, keyId: block.keyId });
    const violations = await exchanged(
      async () => [
        await pismo.appendPinUpdateScript(cardId, script(pinBlock('815263')), randomUUID()),
        await pismo.appendPinUpdateScript(cardId, script(pinBlock('904317', wrongZpk)), randomUUID()),
        await pismo.appendPinUpdateScript(cardId, script(pinBlock('630958', zpk, 'a-key-pismo-never-gave')), randomUUID()),
      ],
      [200, 400, 403],
    );
    expect(violations).toEqual([]);
    expect(proxy.cardCalls().at(-3)!.requestBody).toMatch(/^\{"script_id":"issuer-pin-update","pin_block":"[0-9A-F]{16}","key_id":"contract-zpk"\}$/);
  });

  it('updates a PIN from a PIN block (PUT /pcicards/v1/pcicards/{cardId}/pinblock): 204 (a block it cannot read too), and 403 and 404', async () => {
    const cardId = await seedCard({ pan: PAN });
    const canceled = await seedCard({ pan: PAN, status: 'CANCELED' });
    const violations = await exchanged(
      async () => [
        await pismo.updatePinFromPinBlock(cardId, pinBlock('739146'), randomUUID()),
        await pismo.updatePinFromPinBlock(cardId, { ...pinBlock('582047'), syncOfflinePin: true }, randomUUID()),
        await pismo.updatePinFromPinBlock(cardId, pinBlock('904317', wrongZpk), randomUUID()),
        await pismo.updatePinFromPinBlock(cardId, pinBlock('630958', zpk, 'a-key-pismo-never-gave'), randomUUID()),
        await pismo.updatePinFromPinBlock(canceled, pinBlock('815263'), randomUUID()),
        await pismo.updatePinFromPinBlock(unknownCard(), pinBlock('370851'), randomUUID()),
      ],
      [204, 204, 204, 403, 403, 404],
    );
    expect(violations).toEqual([]);
  });

  it('refuses a token it does not accept with 401 on the PCI host', async () => {
    const cardId = await seedCard();
    proxy.spoilTokens = true;
    try {
      const violations = await exchanged(
        async () => [
          await pismo.changePin(cardId, '370851', false, randomUUID()),
          await pismo.syncOfflinePin(cardId, randomUUID()),
          await pismo.appendPinUpdateScript(cardId, { scriptId: 'issuer-pin-update', accountId: String(ACCOUNT_ID), pin: '461938' }, randomUUID()),
          await pismo.updatePinFromPinBlock(cardId, pinBlock('461938'), randomUUID()),
        ],
        [401, 401, 401, 401],
      );
      expect(violations).toEqual([]);
    } finally {
      proxy.spoilTokens = false;
    }
  });

  it('fails with 500 where Pismo itself fails, on every operation', async () => {
    const cardId = await seedCard({ status: 'BLOCKED' });
    await setKnobs({ errorRate: 1 });
    const violations = await exchanged(
      async () => [
        await pismo.changePin(cardId, '248135', false, randomUUID()),
        await pismo.increasePasswordTries(cardId, true, randomUUID()),
        await pismo.resetPasswordTries(cardId, randomUUID()),
        await pismo.syncOfflinePin(cardId, randomUUID()),
        await pismo.appendPinUpdateScript(cardId, { scriptId: 'issuer-pin-update', accountId: String(ACCOUNT_ID), pin: '529376' }, randomUUID()),
        await pismo.updatePinFromPinBlock(cardId, pinBlock('529376'), randomUUID()),
      ],
      [500, 500, 500, 500, 500, 500],
    );
    expect(violations).toEqual([]);
  });

  it('finds a request or an answer that breaks the document: the check is not vacuous', () => {
    const base: HttpExchange = { method: 'PUT', url: '/pcicards/v2/pcicards/card/12345', requestHeaders: { 'content-type': 'application/json' }, requestBody: '{"pin":"1234"}', status: 201, responseHeaders: { 'content-type': 'application/json' }, responseBody: '"[cid] Card updated"' };
    expect(contract.requestViolations(base)).toEqual([]);
    expect(contract.responseViolations(base)).toEqual([]);
    expect(contract.requestViolations({ ...base, requestBody: '{"pin":"1234567"}' })).toEqual([expect.stringContaining('request body/pin')]);
    expect(contract.requestViolations({ ...base, requestBody: '{"sync_offline_pin":true}' })).toEqual([expect.stringContaining("must have required property 'pin'")]);
    expect(contract.responseViolations({ ...base, status: 400 })).toEqual([expect.stringContaining('status 400 is not one the operation declares')]);
    expect(contract.responseViolations({ ...base, responseBody: '{"message":"ok"}' })).toEqual([expect.stringContaining('must be string')]);
    expect(contract.requestViolations({ ...base, method: 'POST', url: '/pcicards/v1/pcicards/12345/scripts/pin-update', requestBody: '{"script_id":"s"}' })).toEqual(['header parameter x-account-id is required']);
    const pinBlockCall = { ...base, url: '/pcicards/v1/pcicards/12345/pinblock', requestBody: '{"pinblock":"D04BCCEE7133CF01","key_id":"k"}', status: 204, responseHeaders: {}, responseBody: '' };
    expect(contract.responseViolations(pinBlockCall)).toEqual([]);
    expect(contract.responseViolations({ ...pinBlockCall, status: 400 })).toEqual([expect.stringContaining('status 400 is not one the operation declares')]);
    expect(contract.requestViolations({ ...pinBlockCall, method: 'POST' })).toEqual([expect.stringContaining('no such operation')]);
    expect(contract.requestViolations({ ...base, url: '/pcicards/v9/unknown' })).toEqual([expect.stringContaining('no such operation')]);
  });
});
