import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2HttpClient, OAuth2HttpOptions } from './client-credentials';

interface Seen {
  path: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

const RESET = -1;

/** A stand-in for a vendor whose answers each test scripts. */
class Scripted {
  readonly seen: Seen[] = [];
  /** Status 0: no answer at all. */
  tokenAnswers: { status: number; body?: unknown }[] = [];
  /** Status 0: no answer at all; RESET: the connection reset once the request was read. */
  apiAnswers: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
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

  tokenRequests(): Seen[] {
    return this.seen.filter((seen) => seen.path === '/token');
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += chunk;
    this.seen.push({ path: request.url ?? '', authorization: request.headers.authorization, contentType: request.headers['content-type'], body });
    if (request.url === '/token') {
      this.tokens += 1;
      const answer = this.tokenAnswers.shift() ?? { status: 200, body: { access_token: `t${this.tokens}`, token_type: 'Bearer', expires_in: 100 } };
      if (answer.status === 0) return;
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    const answer = this.apiAnswers.shift() ?? { status: 200, body: { result: 'ok' } };
    if (answer.status === 0) return;
    if (answer.status === RESET) return void request.socket.resetAndDestroy();
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? ''));
  }
}

describe('OAuth2HttpClient', () => {
  let vendor: Scripted;
  let baseUrl: string;
  let clock: number;

  const client = (options: Partial<OAuth2HttpOptions> = {}) =>
    new OAuth2HttpClient({ tokenUrl: `${baseUrl}/token`, clientId: 'id', clientSecret: 's3cret', authStyle: 'body', timeoutMs: 2000, ...options }, () => clock);

  const call = (http: OAuth2HttpClient, path = '/cards/c1') => http.send({ method: 'POST', url: `${baseUrl}${path}`, body: { answer: 42 } });

  beforeEach(async () => {
    vendor = new Scripted();
    baseUrl = await vendor.start();
    clock = 1_000_000;
  });

  afterEach(() => vendor.stop());

  it('asks for a token with the client credentials in the form, then sends the JSON request with it as a bearer', async () => {
    const result = await call(client());

    expect(result).toEqual({ kind: 'answered', status: 200, body: '{"result":"ok"}' });
    expect(Object.fromEntries(new URLSearchParams(vendor.seen[0].body))).toEqual({ grant_type: 'client_credentials', client_id: 'id', client_secret: 's3cret' });
    expect(vendor.seen[0].contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(vendor.seen[1]).toEqual({ path: '/cards/c1', authorization: 'Bearer t1', contentType: 'application/json', body: '{"answer":42}' });
  });

  it('authenticates with HTTP Basic instead, form-encoding id and secret first, and asks for the configured scope', async () => {
    await call(client({ authStyle: 'basic', clientId: 'cms client', clientSecret: 's3cret:&', scope: 'pin.write' }));

    const [token] = vendor.tokenRequests();
    expect(token.authorization).toBe(`Basic ${Buffer.from('cms+client:s3cret%3A%26').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({ grant_type: 'client_credentials', scope: 'pin.write' });
  });

  it('shares one token between concurrent calls and reuses it until nine tenths of its lifetime passed', async () => {
    const http = client();
    await Promise.all([call(http, '/a'), call(http, '/b')]);
    clock += 89_000;
    await call(http, '/c');
    expect(vendor.tokenRequests()).toHaveLength(1);

    clock += 2_000;
    await call(http, '/d');
    expect(vendor.tokenRequests()).toHaveLength(2);
    expect(vendor.seen.at(-1)!.authorization).toBe('Bearer t2');
  });

  it('on a 401, fetches a fresh token and tries once more', async () => {
    vendor.apiAnswers.push({ status: 401 }, { status: 204 });

    expect(await call(client())).toMatchObject({ kind: 'answered', status: 204 });
    expect(vendor.seen.map((seen) => seen.authorization ?? seen.path)).toEqual(['/token', 'Bearer t1', '/token', 'Bearer t2']);
  });

  it('forgets a token the vendor refused twice, so the next call starts with a fresh one', async () => {
    vendor.apiAnswers.push({ status: 401 }, { status: 401 });
    const http = client();

    expect(await call(http)).toMatchObject({ kind: 'answered', status: 401 });
    await call(http);

    expect(vendor.seen.map((seen) => seen.authorization ?? seen.path)).toEqual(['/token', 'Bearer t1', '/token', 'Bearer t2', '/token', 'Bearer t3']);
  });

  it('reports refused client credentials as such, without calling the API', async () => {
    vendor.tokenAnswers.push({ status: 401, body: { error: 'invalid_client' } });

    expect(await call(client())).toEqual({ kind: 'token_refused', status: 401 });
    expect(vendor.seen.map((seen) => seen.path)).toEqual(['/token']);
  });

  it('treats a failing token endpoint as the vendor being unavailable, without keeping its error body', async () => {
    vendor.tokenAnswers.push({ status: 503, body: { error: 'echo of id and s3cret' } });

    expect(await call(client())).toEqual({ kind: 'answered', status: 503, body: '' });
  });

  it('treats an unreadable token answer as the vendor being unavailable', async () => {
    vendor.tokenAnswers.push({ status: 200, body: { token: 'no access_token here' } });

    expect(await call(client())).toEqual({ kind: 'unreachable', cause: 'malformed_token_response' });
  });

  it('does not follow a redirect: the request goes to the configured host or nowhere', async () => {
    vendor.apiAnswers.push({ status: 307, headers: { location: `${baseUrl}/elsewhere` } });

    expect(await call(client())).toMatchObject({ kind: 'answered', status: 307 });
    expect(vendor.seen.map((seen) => seen.path)).not.toContain('/elsewhere');
  });

  it('reports a call that outlives the timeout as a timeout', async () => {
    vendor.apiAnswers.push({ status: 0 });
    expect(await call(client({ timeoutMs: 300 }))).toEqual({ kind: 'unreachable', cause: 'timeout' });
  });

  it('reports a connection reset after the vendor read the request as such: the call may have been applied', async () => {
    vendor.apiAnswers.push({ status: RESET });

    expect(await call(client())).toEqual({ kind: 'unreachable', cause: 'reset' });
    expect(vendor.seen.map((seen) => seen.path)).toEqual(['/token', '/cards/c1']);
  });

  it('reports a refused connection as a connection failure: nothing was sent', async () => {
    await vendor.stop();
    expect(await call(client())).toEqual({ kind: 'unreachable', cause: 'connection' });
  });

  it('reports a token endpoint that does not answer as token_unreachable, not as a call that timed out: the call never went out', async () => {
    vendor.tokenAnswers.push({ status: 0 });

    expect(await call(client({ timeoutMs: 300 }))).toEqual({ kind: 'unreachable', cause: 'token_unreachable' });
    expect(vendor.seen.map((seen) => seen.path)).toEqual(['/token']);
  });
});
