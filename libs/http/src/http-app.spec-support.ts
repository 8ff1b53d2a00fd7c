import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from './bootstrap';

/**
 * For the specs of a describe block: `module` as a service runs it (createHttpApp), listening on a
 * free local port before the first spec and closed after the last; `base` is its URL once started.
 */
export function servedForSpecs(module: Type): { readonly base: string } {
  let app: NestFastifyApplication | undefined;
  const served = { base: '' };
  beforeAll(async () => {
    app = await createHttpApp(module);
    await app.listen({ port: 0, host: '127.0.0.1' });
    served.base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app?.close());
  return served;
}
