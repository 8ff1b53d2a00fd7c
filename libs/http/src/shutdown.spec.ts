import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, type AddressInfo } from 'node:net';
import { createHttpApp, httpLoggerModule } from './bootstrap';

/** A promise and the function that settles it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** When the held request arrived, and when it may be answered: its connection is busy while the app closes. */
const held = { arrived: signal(), released: signal() };

@Controller('held')
class HeldController {
  @Get()
  async answer(): Promise<{ done: boolean }> {
    held.arrived.resolve();
    await held.released.promise;
    return { done: true };
  }
}

@Module({ imports: [httpLoggerModule('spec', 'silent')], controllers: [HeldController] })
class HeldModule {}

describe('an app made by createHttpApp, while it closes', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createHttpApp(HeldModule);
    await app.listen({ port: 0, host: '127.0.0.1' });
  });

  it('answers a request arriving on a connection still open with the 503 problem and Retry-After, and closes that connection', async () => {
    const server = app.getHttpServer();
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /held HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await held.arrived.promise;

    const closing = app.close();
    while (server.listening) await new Promise((resolve) => setTimeout(resolve, 5));
    socket.write('GET /held HTTP/1.1\r\nhost: localhost\r\n\r\n');
    held.released.resolve();
    await Promise.all([closed, closing]);

    const [first, second] = Buffer.concat(received).toString('latin1').split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/content-type: application\/problem\+json/i);
    expect(second).toMatch(/retry-after: 1/i);
    expect(second).toMatch(/connection: close/i);
    expect(second).toContain('"code":"TEMPORARILY_UNAVAILABLE"');
  });
});
