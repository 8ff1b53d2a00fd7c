import { OAuth2HttpClient } from '@pinflow/worker-kit';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { solarisCommand } from '../test-commands';
import { pinUpdateRequestOf, SolarisClient } from './solaris-client';

interface SolarisRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const JWE = 'eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiazEifQ.a_b-c.iv.ct.tag';

const command = (fields: Parameters<typeof solarisCommand>[0] = {}) => solarisCommand({ encryptedPin: JWE, keyId: 'pin-key-7', signature: 'MEUCIQD+/sig==', ...fields });

describe('pinUpdateRequestOf', () => {
  it('relays the device’s fields untouched, in Solaris’ names', () => {
    expect(pinUpdateRequestOf(command({ deviceData: 'seon-fingerprint' }))).toEqual({
      device_id: 'device-1',
      encrypted_pin: JWE,
      key_id: 'pin-key-7',
      signature: 'MEUCIQD+/sig==',
      device_data: 'seon-fingerprint',
    });
  });

  it('leaves device_data out when the device sent none', () => {
    expect(pinUpdateRequestOf(command())).not.toHaveProperty('device_data');
  });
});

// How Solaris' requests look on the wire; token caching, retries on 401, timeouts and redirects are
// the OAuth2HttpClient's, specified with it.
describe('SolarisClient', () => {
  const requests: SolarisRequest[] = [];
  let server: Server;
  let base: string;
  let solaris: SolarisClient;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push({ method: request.method, url: request.url, headers: request.headers, body });
      if (request.url === '/oauth2/token') return response.end(JSON.stringify({ access_token: 'solaris-token', expires_in: 3599, token_type: 'bearer' }));
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"r-1","status":"COMPLETED"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    requests.splice(0);
    const http = new OAuth2HttpClient({ tokenUrl: `${base}/oauth2/token`, clientId: 'id', clientSecret: 's3cret', authStyle: 'basic', scope: 'partners', timeoutMs: 2000 });
    solaris = new SolarisClient(http, `${base}/`);
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('gets its token with the client credentials as HTTP Basic and scope=partners, as Solaris documents', async () => {
    await solaris.requestPinUpdate('card-1', pinUpdateRequestOf(command()));

    expect(requests[0].headers.authorization).toBe(`Basic ${Buffer.from('id:s3cret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(requests[0].body))).toEqual({ grant_type: 'client_credentials', scope: 'partners' });
  });

  it('posts the PIN update request as JSON with the bearer token, the card id escaped in the path', async () => {
    const body = pinUpdateRequestOf(command({ deviceData: 'seon' }));

    const result = await solaris.requestPinUpdate('card/1', body);

    expect(result).toEqual({ kind: 'answered', status: 201, body: '{"id":"r-1","status":"COMPLETED"}' });
    const call = requests.at(-1)!;
    expect(call).toMatchObject({ method: 'POST', url: '/v1/cards/card%2F1/pin_update_requests' });
    expect(call.headers).toMatchObject({ authorization: 'Bearer solaris-token', 'content-type': 'application/json' });
    expect(JSON.parse(call.body)).toEqual(body);
  });
});
