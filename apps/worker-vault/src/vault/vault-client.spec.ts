import { OAuth2HttpClient } from '@pinflow/worker-kit';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultClient } from './vault-client';

interface VaultRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

// How Vault's requests look on the wire; tokens, retries on 401, timeouts and redirects are the
// OAuth2HttpClient's, specified with it in @pinflow/worker-kit.
describe('VaultClient', () => {
  const requests: VaultRequest[] = [];
  let server: Server;
  let base: string;
  let vault: VaultClient;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push({ method: request.method, url: request.url, headers: request.headers, body });
      response.setHeader('content-type', 'application/json');
      if (request.url === '/v2/auth/token') return response.end(JSON.stringify({ access_token: 'vault-token', token_type: 'Bearer', expires_in: 300 }));
      if (request.url === '/v2/card/rsa-public-key') return response.end(JSON.stringify({ id: 'key-1', publicKey: 'MIIB' }));
      response.end(JSON.stringify({ result: 'ok' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    requests.splice(0);
    const http = new OAuth2HttpClient({ tokenUrl: `${base}/v2/auth/token`, clientId: 'pinflow', clientSecret: 's3cret', authStyle: 'body', timeoutMs: 2000 });
    vault = new VaultClient(http, `${base}/`);
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('gets its token with the client credentials as a form', async () => {
    await vault.publicKey();

    expect(requests[0]).toMatchObject({ method: 'POST', url: '/v2/auth/token' });
    expect(Object.fromEntries(new URLSearchParams(requests[0].body))).toEqual({ grant_type: 'client_credentials', client_id: 'pinflow', client_secret: 's3cret' });
  });

  it('fetches the RSA key with a GET and the bearer token', async () => {
    expect(await vault.publicKey()).toEqual({ kind: 'answered', status: 200, body: '{"id":"key-1","publicKey":"MIIB"}' });
    expect(requests.at(-1)).toMatchObject({ method: 'GET', url: '/v2/card/rsa-public-key', body: '' });
    expect(requests.at(-1)!.headers.authorization).toBe('Bearer vault-token');
  });

  it('sets a passcode with a JSON POST of keyId, code and passCode to the card’s int64 id', async () => {
    const result = await vault.setPasscode('9223372036854775807', { keyId: 'key-1', code: '482913', passCode: 'Y2lwaGVy' });

    expect(result).toEqual({ kind: 'answered', status: 200, body: '{"result":"ok"}' });
    const set = requests.at(-1)!;
    expect(set).toMatchObject({ method: 'POST', url: '/v2/card/9223372036854775807/passcode/code/set' });
    expect(JSON.parse(set.body)).toEqual({ keyId: 'key-1', code: '482913', passCode: 'Y2lwaGVy' });
    expect(set.headers).toMatchObject({ authorization: 'Bearer vault-token', 'content-type': 'application/json', accept: 'application/json' });
  });

  it('asks Vault to text a code with a bodiless POST to the card’s sms/send', async () => {
    expect(await vault.sendCode('1234435')).toEqual({ kind: 'answered', status: 200, body: '{"result":"ok"}' });
    expect(requests.at(-1)).toMatchObject({ method: 'POST', url: '/v2/card/1234435/passcode/sms/send', body: '' });
    expect(requests.at(-1)!.headers.authorization).toBe('Bearer vault-token');
  });

  it('checks a code with a JSON POST of the code, in clear as code/set takes it, to the card’s sms/verify', async () => {
    await vault.verifyCode('1234435', '482913');
    const check = requests.at(-1)!;
    expect(check).toMatchObject({ method: 'POST', url: '/v2/card/1234435/passcode/sms/verify' });
    expect(JSON.parse(check.body)).toEqual({ code: '482913' });
  });
});
