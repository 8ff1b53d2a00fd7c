import { ThalesD1ChangePinCommand, thalesD1ChangePinCommand } from '@pinflow/contracts';
import { createLogger } from '@pinflow/logging';
import { decodeIso1, encodeIso0 } from '@pinflow/pin-block';
import { encryptSecret, generatePinKeyRing, PinDecryptionError, PinKeyRing, sealForCommand } from '@pinflow/pin-crypto';
import { testCommand } from '@pinflow/testing';
import { OAuth2HttpClient } from '@pinflow/worker-kit';
import { compactDecrypt, generateKeyPair, type CryptoKey } from 'jose';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CmsClient } from './d1/cms-client';
import { CmsEncryptionKey } from './d1/cms-key';
import { ThalesD1Adapter } from './thales-d1-adapter';

const PIN = '604729';
const PAN = '4761739001010119';

interface CmsRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Answer {
  /** 0: no answer at all, so the call times out. */
  status: number;
  body?: unknown;
}

/** Short for the calls meant to time out; every other call answers at once. */
const TIMEOUT_MS = 750;

const counter = (changeCounter: number): Answer => ({ status: 200, body: { changeCounter } });
const stale: Answer = { status: 409, body: { errorCode: 'STALE_CHANGE_COUNTER', errorMessage: 'read it again' } };
const applied: Answer = { status: 204 };
const noAnswer: Answer = { status: 0 };

// The call's wire format and its counter handling, against a CMS whose answers each test scripts;
// tokens, retries across attempts and timeouts are the kit's, specified with it.
describe('ThalesD1Adapter', () => {
  const requests: CmsRequest[] = [];
  let answers: Answer[];
  let server: Server;
  let base: string;
  let cmsPrivateKey: CryptoKey;
  let cmsKey: CmsEncryptionKey;
  let keyRing: PinKeyRing;
  let adapter: ThalesD1Adapter;

  const cardRequests = () => requests.filter((request) => request.url.startsWith('/cms/'));
  const cardPath = '/cms/api/v1/issuers/ISSUER0001/cards/card_1-A/pin';

  async function command(pinBlockFormat: ThalesD1ChangePinCommand['pinBlockFormat']): Promise<ThalesD1ChangePinCommand> {
    const command = testCommand(thalesD1ChangePinCommand, {
      cardId: 'card_1-A',
      vendor: 'thales-d1',
      operation: 'change_pin',
      issuerId: 'ISSUER0001',
      pinBlockFormat,
      encryptedPin: 'a.b.c.d.e',
      encryptedPan: 'a.b.c.d.e',
    });
    return { ...command, encryptedPin: await sealForCommand('pin', PIN, keyRing, command), encryptedPan: await sealForCommand('pan', PAN, keyRing, command) };
  }

  /** What the CMS decrypts out of a PUT. */
  async function pushedBlock(request: CmsRequest): Promise<any> {
    const { encryptedPinBlock } = JSON.parse(request.body) as { encryptedPinBlock: string };
    return JSON.parse(new TextDecoder().decode((await compactDecrypt(encryptedPinBlock, cmsPrivateKey)).plaintext));
  }

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      if (request.url === '/authz/d1/v1/oauth2/token') return response.end(JSON.stringify({ access_token: 'cms-token', expires_in: 300 }));
      const answer = answers.shift() ?? { status: 500 };
      if (answer.status === 0) return;
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cmsKeys = await generateKeyPair('ECDH-ES', { crv: 'P-256' });
    cmsPrivateKey = cmsKeys.privateKey;
    cmsKey = new CmsEncryptionKey('cms-kid', cmsKeys.publicKey);
    keyRing = await generatePinKeyRing();
  });

  function adapterTimingOutAfter(timeoutMs: number): ThalesD1Adapter {
    const http = new OAuth2HttpClient({ tokenUrl: `${base}/authz/d1/v1/oauth2/token`, clientId: 'd1', clientSecret: 's3cret', authStyle: 'basic', timeoutMs });
    return new ThalesD1Adapter(new CmsClient(http, base), cmsKey, keyRing, createLogger('adapter-spec', 'silent'));
  }

  beforeEach(() => {
    requests.splice(0);
    answers = [];
    adapter = adapterTimingOutAfter(5000);
  });

  afterAll(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  it('reaches the CMS only when the call is made, not while preparing it', async () => {
    await adapter.prepare(await command('3DES_SECCOS'));
    await adapter.prepare(await command('ISO0'));

    expect(requests).toEqual([]);
  });

  it('pushes an ISO0 PIN after reading the change counter: the format 0 block under the PAN, encrypted to the CMS, with the command id as correlation id', async () => {
    const iso0 = await command('ISO0');
    answers = [counter(4), applied];

    const result = await (await adapter.prepare(iso0))(1);

    expect(result).toEqual({ kind: 'answered', status: 204, body: '' });
    const [read, put] = cardRequests();
    expect(cardRequests()).toHaveLength(2);
    expect(read).toMatchObject({ method: 'GET', url: `${cardPath}/changeCounter` });
    expect(put).toMatchObject({ method: 'PUT', url: cardPath });
    expect(put.headers).toMatchObject({ authorization: 'Bearer cms-token', 'x-correlation-id': iso0.commandId, 'content-type': 'application/json' });
    expect(Object.keys(JSON.parse(put.body))).toEqual(['type', 'encryptedPinBlock']);
    expect(JSON.parse(put.body).type).toBe('ISO0');
    expect(await pushedBlock(put)).toEqual({ format: 'ISO0', pinBlock: encodeIso0(PIN, PAN) });
  });

  it('asks the CMS’s token endpoint for a token with HTTP Basic client credentials', async () => {
    answers = [counter(0), applied];
    await (await adapter.prepare(await command('ISO0')))(1);

    const [token] = requests;
    expect(token).toMatchObject({ method: 'POST', url: '/authz/d1/v1/oauth2/token', body: 'grant_type=client_credentials' });
    expect(token.headers.authorization).toBe(`Basic ${Buffer.from('d1:s3cret').toString('base64')}`);
  });

  it('pushes a Seccos PIN after reading the change counter: a format 1 block carrying the counter it read', async () => {
    const seccos = await command('3DES_SECCOS');
    answers = [counter(7), applied];

    const result = await (await adapter.prepare(seccos))(1);

    expect(result).toMatchObject({ kind: 'answered', status: 204 });
    const [read, put] = cardRequests();
    expect(read).toMatchObject({ method: 'GET', url: `${cardPath}/changeCounter`, body: '' });
    expect(read.headers).toMatchObject({ authorization: 'Bearer cms-token', 'x-correlation-id': seccos.commandId });
    expect(put).toMatchObject({ method: 'PUT', url: cardPath });
    expect(JSON.parse(put.body).type).toBe('3DES_SECCOS');
    const block = await pushedBlock(put);
    expect(block).toEqual({ format: '3DES_SECCOS', pinBlock: expect.stringMatching(/^[0-9A-F]{16}$/), changeCounter: 7 });
    expect(decodeIso1(block.pinBlock)).toBe(PIN);
  });

  it('reads the counter again on every attempt, since an attempt that timed out may have moved it', async () => {
    const call = await adapter.prepare(await command('3DES_SECCOS'));
    answers = [counter(3), { status: 503 }, counter(4), applied];

    expect(await call(1)).toMatchObject({ status: 503 });
    expect(await call(2)).toMatchObject({ status: 204 });

    const puts = cardRequests().filter((request) => request.method === 'PUT');
    expect(await Promise.all(puts.map(async (put) => (await pushedBlock(put)).changeCounter))).toEqual([3, 4]);
  });

  it('on a stale counter, reads it again and pushes once more within the same attempt', async () => {
    answers = [counter(7), stale, counter(8), applied];

    const result = await (await adapter.prepare(await command('3DES_SECCOS')))(1);

    expect(result).toMatchObject({ status: 204 });
    expect(cardRequests().map((request) => request.method)).toEqual(['GET', 'PUT', 'GET', 'PUT']);
    expect((await pushedBlock(cardRequests()[3])).changeCounter).toBe(8);
  });

  it('reads a stale counter again only once: a second 409 ends the call', async () => {
    answers = [counter(7), stale, counter(8), stale, counter(9), applied];

    const result = await (await adapter.prepare(await command('3DES_SECCOS')))(1);

    expect(result).toMatchObject({ status: 409 });
    expect(cardRequests().map((request) => request.method)).toEqual(['GET', 'PUT', 'GET', 'PUT']);
  });

  it('does not read again on a 409 that is not about the counter', async () => {
    answers = [counter(7), { status: 409, body: { errorCode: 'CONFLICT' } }];

    expect(await (await adapter.prepare(await command('3DES_SECCOS')))(1)).toMatchObject({ status: 409 });
    expect(cardRequests()).toHaveLength(2);
  });

  it('ends the call with the counter read’s answer when the read fails, without pushing', async () => {
    answers = [{ status: 404, body: { errorCode: 'CARD_NOT_FOUND', errorMessage: 'The issuer has no card with this id' } }];

    const result = await (await adapter.prepare(await command('3DES_SECCOS')))(1);

    expect(result).toEqual({ kind: 'answered', status: 404, body: '{"errorCode":"CARD_NOT_FOUND","errorMessage":"The issuer has no card with this id"}' });
    expect(cardRequests().map((request) => request.method)).toEqual(['GET']);
  });

  it('never takes an unreadable counter for an answer to the PIN: 502 UNREADABLE_CHANGE_COUNTER, without pushing', async () => {
    answers = [{ status: 200, body: { changeCounter: 'seven' } }];

    const result = await (await adapter.prepare(await command('3DES_SECCOS')))(1);

    expect(result).toMatchObject({ kind: 'answered', status: 502, body: expect.stringContaining('UNREADABLE_CHANGE_COUNTER') });
    expect(cardRequests().map((request) => request.method)).toEqual(['GET']);
  });

  it('refuses a PIN or PAN it cannot decrypt while preparing, so the command fails without a call', async () => {
    const otherRing = await generatePinKeyRing();

    await expect(adapter.prepare({ ...(await command('ISO0')), encryptedPin: await encryptSecret('pin', PIN, otherRing) })).rejects.toBeInstanceOf(PinDecryptionError);
    await expect(adapter.prepare({ ...(await command('ISO0')), encryptedPan: await encryptSecret('pan', PAN, otherRing) })).rejects.toBeInstanceOf(PinDecryptionError);
    await expect(adapter.prepare({ ...(await command('3DES_SECCOS')), encryptedPin: 'a.b.c.d.e' })).rejects.toBeInstanceOf(PinDecryptionError);
    expect(requests).toEqual([]);
  });

  it('leaves the PAN of a Seccos command encrypted: the block does not bind it', async () => {
    answers = [counter(0), applied];
    const call = await adapter.prepare({ ...(await command('3DES_SECCOS')), encryptedPan: 'a.b.c.d.e' });

    expect(await call(1)).toMatchObject({ status: 204 });
  });

  describe('checkOutcome, after a call that timed out', () => {
    beforeEach(() => {
      adapter = adapterTimingOutAfter(TIMEOUT_MS);
    });

    /** Runs one attempt that times out on the PUT, with the counter read before it answering `before`. */
    async function timedOutPush(format: ThalesD1ChangePinCommand['pinBlockFormat'], before: number) {
      const changePin = await command(format);
      answers = [counter(before), noAnswer];
      expect(await (await adapter.prepare(changePin))(1)).toEqual({ kind: 'unreachable', cause: 'timeout' });
      return changePin;
    }

    it.each(['ISO0', '3DES_SECCOS'] as const)('finds the PUT of an %s block applied when the counter moved one step on, and answers with that read', async (format) => {
      const changePin = await timedOutPush(format, 7);
      answers = [counter(8)];

      expect(await adapter.checkOutcome(changePin)).toEqual({ outcome: 'applied', result: { kind: 'answered', status: 200, body: '{"changeCounter":8}' } });
      const reads = cardRequests().filter((request) => request.method === 'GET');
      expect(reads.at(-1)).toMatchObject({ url: `${cardPath}/changeCounter`, headers: expect.objectContaining({ 'x-correlation-id': changePin.commandId }) });
    });

    it.each(['ISO0', '3DES_SECCOS'] as const)('does not push an %s block again when the counter did not move: the CMS may still hold the first PUT', async (format) => {
      const changePin = await timedOutPush(format, 7);
      answers = [counter(7)];

      expect(await adapter.checkOutcome(changePin)).toEqual({ outcome: 'unknown' });
    });

    it.each([
      ['moved two steps: someone else changed the PIN too', counter(9)],
      ['went back: the card was reset', counter(0)],
      ['cannot be read', { status: 503 }],
    ])('cannot tell when the counter %s', async (_case, answer) => {
      const changePin = await timedOutPush('ISO0', 7);
      answers = [answer];

      expect(await adapter.checkOutcome(changePin)).toEqual({ outcome: 'unknown' });
    });

    it('finds nothing applied, without asking the CMS, when what timed out was the counter read before the PUT', async () => {
      const changePin = await command('ISO0');
      answers = [noAnswer];
      expect(await (await adapter.prepare(changePin))(1)).toEqual({ kind: 'unreachable', cause: 'timeout' });
      const requestsBefore = requests.length;

      expect(await adapter.checkOutcome(changePin)).toEqual({ outcome: 'not_applied' });
      expect(requests).toHaveLength(requestsBefore);
    });

    it('compares with the counter read before the last PUT, not an earlier attempt’s', async () => {
      const changePin = await command('3DES_SECCOS');
      const call = await adapter.prepare(changePin);
      answers = [counter(3), { status: 503 }, counter(3), stale, counter(4), noAnswer];
      await call(1);
      await call(2);
      answers = [counter(5)];

      expect(await adapter.checkOutcome(changePin)).toMatchObject({ outcome: 'applied' });
    });
  });
});
