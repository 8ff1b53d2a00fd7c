import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Door, httpDoor, HttpDoor, Outcome, PreparedRequest, runLoad } from './load';

interface FakeIntake {
  url: string;
  /** The headers of each POST it received. */
  seen: http.IncomingHttpHeaders[];
  /** Connections opened to it so far. */
  connections: () => number;
  close: () => Promise<void>;
}

/**
 * A stand-in for intake: 202 with a request id, the problem it is told to answer for a path, or no
 * answer at all for `/silent`; 200 to a probe.
 */
async function fakeIntake(): Promise<FakeIntake> {
  const seen: http.IncomingHttpHeaders[] = [];
  let connections = 0;
  const server = http.createServer((request, response) => {
    if (request.method === 'GET') return void response.writeHead(200).end();
    seen.push(request.headers);
    request.resume().on('end', () => {
      if (request.url === '/silent') return;
      const overloaded = request.url === '/busy';
      response.writeHead(overloaded ? 503 : 202, { 'content-type': 'application/json' });
      response.end(JSON.stringify(overloaded ? { code: 'TEMPORARILY_UNAVAILABLE' } : { requestId: randomUUID() }));
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const request = (path: string): PreparedRequest => ({ path, body: Buffer.from('{}') });

/** Runs `test` against the HTTP door to a fake intake, and closes both whatever happens. */
async function overHttp(door: { maxSockets: number; timeoutMs: number }, test: (door: HttpDoor, intake: FakeIntake) => Promise<void>): Promise<void> {
  const intake = await fakeIntake();
  const client = httpDoor({ baseUrl: intake.url, token: 'bench-token', ...door });
  try {
    await test(client, intake);
  } finally {
    await client.close();
    await intake.close();
  }
}

describe('the load generator', () => {
  it('over HTTP counts a 202 as accepted by its request id and any other answer as refused by status and problem code, with the bearer token and a new idempotency key each time', async () => {
    let sent = 0;
    await overHttp({ maxSockets: 2, timeoutMs: 5000 }, async (door, intake) => {
      const result = await runLoad({ door, next: () => request(sent++ % 2 === 0 ? '/ok' : '/busy'), durationMs: 200, concurrency: 2, maxInFlight: 2 });

      expect(result.accepted.size).toBeGreaterThan(0);
      expect(result.refused).toEqual({ '503 TEMPORARILY_UNAVAILABLE': expect.any(Number) });
      expect(result.accepted.size + result.refused['503 TEMPORARILY_UNAVAILABLE']).toBe(result.sent);
      expect(intake.seen.every((headers) => headers.authorization === 'Bearer bench-token')).toBe(true);
      expect(new Set(intake.seen.map((headers) => headers['idempotency-key'])).size).toBe(intake.seen.length);
    });
  });

  it('over HTTP opens its connections before the load, as callers with a connection pool have them, and sends the load over them', async () => {
    await overHttp({ maxSockets: 8, timeoutMs: 5000 }, async (door, intake) => {
      expect(await door.connect(8)).toBe(8);
      expect(intake.connections()).toBe(8);

      const result = await runLoad({ door, next: () => request('/ok'), durationMs: 200, rate: 200, concurrency: 1, maxInFlight: 8 });

      expect(result.accepted.size).toBeGreaterThan(0);
      expect(intake.connections()).toBe(8);
    });
  });

  it('over HTTP counts a request left unanswered past the time-out as refused by TIMEOUT', async () => {
    await overHttp({ maxSockets: 1, timeoutMs: 100 }, async (door) => {
      expect(await door.submit(request('/silent'))).toEqual({ refusal: 'network TIMEOUT: no answer in 100 ms' });
    });
  });

  it('takes any door: what it answers is counted the same way, and a request that cannot be built is refused as not sent', async () => {
    const answers: Outcome[] = [{ requestId: 'r-1' }, { refusal: 'rejected PIN_REJECTED' }];
    let submitted = 0;
    const door: Door<number> = { submit: async () => answers[submitted++ % answers.length], close: async () => undefined };
    let built = 0;

    const result = await runLoad({
      door,
      next: () => (built++ === 2 ? Promise.reject(new Error('sandbox down')) : built),
      durationMs: 50,
      concurrency: 1,
      maxInFlight: 1,
    });

    expect([...result.accepted.keys()]).toEqual(['r-1']);
    expect(result.refused).toMatchObject({ 'rejected PIN_REJECTED': expect.any(Number), 'not sent: sandbox down': 1 });
  });
});
