import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { limitAdmission } from './admission-limit';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server whose app holds every request until the test answers it, limited to two writes in progress. */
async function limitedServer() {
  const held: ServerResponse[] = [];
  const server: Server = createServer((_request, response) => {
    held.push(response);
  });
  limitAdmission(server, { maxInProgress: 2, applies: (request) => request.method === 'POST' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const send = (method: string) =>
    new Promise<Answer>((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port, method, path: '/v1/pismo/cards/c1/password', headers: { 'content-type': 'application/json' } }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      });
      outgoing.on('error', reject);
      outgoing.end(method === 'POST' ? '{"pin":"sealed"}' : undefined);
    });
  const arrived = async (count: number) => {
    while (held.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  const answer = (response: ServerResponse) => response.writeHead(202).end('{}');
  return { server, held, send, arrived, answer };
}

describe('the admission limit in front of a server’s write requests', () => {
  let subject: Awaited<ReturnType<typeof limitedServer>>;

  beforeEach(async () => {
    subject = await limitedServer();
  });

  afterEach(async () => {
    subject.held.forEach((response) => response.writableEnded || subject.answer(response));
    subject.server.closeAllConnections();
    await new Promise((resolve) => subject.server.close(resolve));
  });

  it('refuses at once with a 503 problem and Retry-After while as many as it may take are in progress, without the app seeing it', async () => {
    const first = subject.send('POST');
    const second = subject.send('POST');
    await subject.arrived(2);

    const refused = await subject.send('POST');

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(refused.body)).toMatchObject({ status: 503, code: 'TEMPORARILY_UNAVAILABLE' });
    expect(subject.held).toHaveLength(2);
    subject.held.forEach(subject.answer);
    expect((await first).status).toBe(202);
    expect((await second).status).toBe(202);
  });

  it('takes requests again once earlier ones were answered', async () => {
    const earlier = [subject.send('POST'), subject.send('POST')];
    await subject.arrived(2);
    subject.held.forEach(subject.answer);
    await Promise.all(earlier);

    const later = subject.send('POST');
    await subject.arrived(3);
    subject.answer(subject.held[2]);

    expect((await later).status).toBe(202);
  });

  it('frees the place of a caller that hung up before its answer', async () => {
    const agentless = () => httpRequest({ host: '127.0.0.1', port: (subject.server.address() as AddressInfo).port, method: 'POST', path: '/v1/x', agent: false });
    const hungUp = agentless().on('error', () => undefined);
    hungUp.end('{}');
    await subject.arrived(1);
    hungUp.destroy();
    await new Promise<void>((resolve) => subject.held[0].once('close', resolve));

    const taken = [subject.send('POST'), subject.send('POST')];
    await subject.arrived(3);
    subject.held.slice(1).forEach(subject.answer);

    expect((await Promise.all(taken)).map((answer) => answer.status)).toEqual([202, 202]);
  });

  it('lets through requests it does not apply to, however many writes are in progress', async () => {
    void subject.send('POST');
    void subject.send('POST');
    await subject.arrived(2);

    const read = subject.send('GET');
    await subject.arrived(3);
    subject.answer(subject.held[2]);

    expect((await read).status).toBe(202);
  });
});
