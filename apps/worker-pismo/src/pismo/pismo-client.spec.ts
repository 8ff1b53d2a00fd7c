import { OAuth2HttpClient } from '@pinflow/worker-kit';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PismoClient } from './pismo-client';

interface PismoRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

// How Pismo's requests look on the wire; tokens, retries on 401, timeouts and redirects are the
// OAuth2HttpClient's, specified with it in @pinflow/worker-kit.
describe('PismoClient', () => {
  const requests: PismoRequest[] = [];
  let server: Server;
  let base: string;
  let pismo: PismoClient;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push({ method: request.method, url: request.url, headers: request.headers, body });
      if (request.url === '/passport/token') return response.end(JSON.stringify({ access_token: 'pismo-token', expires_in: 300 }));
      response.writeHead(request.method === 'PUT' ? 201 : 200).end(request.method === 'PUT' ? '"[cid-9] Card updated"' : '{"success":"Incremented password tries counter"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    requests.splice(0);
    const http = new OAuth2HttpClient({ tokenUrl: `${base}/passport/token`, clientId: 'id', clientSecret: 's3cret', authStyle: 'body', timeoutMs: 2000 });
    pismo = new PismoClient(http, { pciBaseUrl: `${base}/pci/`, apiBaseUrl: base });
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('gets its token from the passport endpoint with the client credentials as a form', async () => {
    await pismo.increasePasswordTries('c1', true, 'cid-1');

    expect(Object.fromEntries(new URLSearchParams(requests[0].body))).toEqual({ grant_type: 'client_credentials', client_id: 'id', client_secret: 's3cret' });
  });

  it('sends the PIN change to the PCI host as JSON, with the bearer token and the cid header', async () => {
    const result = await pismo.changePin('c/1', '123456', true, 'cid-9');

    expect(result).toEqual({ kind: 'answered', status: 201, body: '"[cid-9] Card updated"' });
    const change = requests.at(-1)!;
    expect(change).toMatchObject({ method: 'PUT', url: '/pci/pcicards/v2/pcicards/card/c%2F1', body: '{"pin":"123456","sync_offline_pin":true}' });
    expect(change.headers).toMatchObject({ authorization: 'Bearer pismo-token', 'x-cid': 'cid-9', 'content-type': 'application/json' });
  });

  it('sends the tries increase to the API host', async () => {
    const result = await pismo.increasePasswordTries('c1', false, 'cid-2');

    expect(result).toMatchObject({ kind: 'answered', status: 200 });
    expect(requests.at(-1)).toMatchObject({ method: 'POST', url: '/wallet/v2/cards/c1/password-tries/increase', body: '{"block_card_exceeds_counter":false}' });
    expect(requests.at(-1)!.headers['x-cid']).toBe('cid-2');
  });
});
