import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { configureHttpApp } from './bootstrap';

/**
 * For the specs of a describe block: `module` as a service runs it (configureHttpApp), listening on a
 * free local port before the first spec and closed after the last; `base` is its URL once started.
 */
export function servedForSpecs(module: Type): { readonly base: string } {
  let app: NestExpressApplication | undefined;
  const served = { base: '' };
  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
    configureHttpApp(app);
    await app.listen(0, '127.0.0.1');
    served.base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => app?.close());
  return served;
}
