import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PismoClient } from './pismo-client';

interface Seen {
  path: string;
  authorization?: string;
  body: string;
}

/** A stand-in for Pismo whose answers each test scripts. */
class Scripted {
  readonly seen: Seen[] = [];
  tokenAnswers: { status: number; body: unknown }[] = [];
  /** Status 0: no answer at all. */
  cardAnswers: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
  private server?: Server;
  private tokens = 0;

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<unknown> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(resolve));
  }

  tokenRequests(): number {
    return this.seen.filter((seen) => seen.path === '/token').length;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += chunk;
    this.seen.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
    if (request.url === '/token') {
      this.tokens += 1;
      const answer = this.tokenAnswers.shift() ?? { status: 200, body: { access_token: `t${this.tokens}`, token_type: 'Bearer', expires_in: 100 } };
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    const answer = this.cardAnswers.shift() ?? { status: 200, body: { success: 'Incremented password tries counter' } };
    if (answer.status === 0) return;
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? ''));
  }
}

describe('PismoClient', () => {
  let pismo: Scripted;
  let baseUrl: string;
  let clock: number;

  const client = (timeoutMs = 2000) =>
    new PismoClient(
      { pciBaseUrl: `${baseUrl}/pci/`, apiBaseUrl: baseUrl, tokenUrl: `${baseUrl}/token`, clientId: 'id', clientSecret: 's3cret', timeoutMs },
      () => clock,
    );

  beforeEach(async () => {
    pismo = new Scripted();
    baseUrl = await pismo.start();
    clock = 1_000_000;
  });

  afterEach(() => pismo.stop());

  it('asks for a token with client credentials as a form, then calls with it as a bearer', async () => {
    const result = await client().increasePasswordTries('c1', true, 'cid-1');

    expect(result).toEqual({ kind: 'answered', status: 200, body: '{"success":"Incremented password tries counter"}' });
    expect(Object.fromEntries(new URLSearchParams(pismo.seen[0].body))).toEqual({ grant_type: 'client_credentials', client_id: 'id', client_secret: 's3cret' });
    expect(pismo.seen[1]).toEqual({ path: '/wallet/v2/cards/c1/password-tries/increase', authorization: 'Bearer t1', body: '{"block_card_exceeds_counter":true}' });
  });

  it('shares one token between concurrent calls and reuses it until nine tenths of its lifetime passed', async () => {
    const pismoClient = client();
    await Promise.all([pismoClient.increasePasswordTries('c1', true, 'a'), pismoClient.increasePasswordTries('c2', true, 'b')]);
    clock += 89_000;
    await pismoClient.increasePasswordTries('c3', true, 'c');
    expect(pismo.tokenRequests()).toBe(1);

    clock += 2_000;
    await pismoClient.increasePasswordTries('c4', true, 'd');
    expect(pismo.tokenRequests()).toBe(2);
    expect(pismo.seen.at(-1)!.authorization).toBe('Bearer t2');
  });

  it('sends the PIN change to the PCI host with the cid header', async () => {
    pismo.cardAnswers.push({ status: 201, body: '[cid-9] Card updated' });
    const result = await client().changePin('c1', '123456', true, 'cid-9');

    expect(result).toEqual({ kind: 'answered', status: 201, body: '"[cid-9] Card updated"' });
    expect(pismo.seen[1]).toMatchObject({ path: '/pci/pcicards/v2/pcicards/card/c1', body: '{"pin":"123456","sync_offline_pin":true}' });
  });

  it('reports refused client credentials as such, without calling the card endpoint', async () => {
    pismo.tokenAnswers.push({ status: 401, body: { error: 'invalid_client' } });

    expect(await client().increasePasswordTries('c1', true, 'cid')).toEqual({ kind: 'token_refused', status: 401 });
    expect(pismo.seen.map((seen) => seen.path)).toEqual(['/token']);
  });

  it('treats an unreadable token answer as Pismo being unavailable', async () => {
    pismo.tokenAnswers.push({ status: 200, body: { token: 'no access_token here' } });

    expect(await client().increasePasswordTries('c1', true, 'cid')).toEqual({ kind: 'unreachable', cause: 'malformed_token_response' });
  });

  it('forgets a token Pismo refused twice, so the next call starts with a fresh one', async () => {
    pismo.cardAnswers.push({ status: 401 }, { status: 401 });
    const pismoClient = client();

    expect(await pismoClient.increasePasswordTries('c1', true, 'a')).toMatchObject({ kind: 'answered', status: 401 });
    await pismoClient.increasePasswordTries('c1', true, 'b');

    expect(pismo.seen.map((seen) => seen.authorization ?? seen.path)).toEqual(['/token', 'Bearer t1', '/token', 'Bearer t2', '/token', 'Bearer t3']);
  });

  it('does not follow a redirect: the PIN goes to the configured host or nowhere', async () => {
    pismo.cardAnswers.push({ status: 307, headers: { location: `${baseUrl}/elsewhere` } });

    expect(await client().changePin('c1', '123456', false, 'cid')).toMatchObject({ kind: 'answered', status: 307 });
    expect(pismo.seen.map((seen) => seen.path)).not.toContain('/elsewhere');
  });

  it('reports a call that outlives the timeout as a timeout', async () => {
    pismo.cardAnswers.push({ status: 0 });
    expect(await client(300).increasePasswordTries('c1', true, 'cid')).toEqual({ kind: 'unreachable', cause: 'timeout' });
  });

  it('reports a refused connection as unreachable', async () => {
    await pismo.stop();
    expect(await client().increasePasswordTries('c1', true, 'cid')).toEqual({ kind: 'unreachable', cause: 'connection' });
  });
});
