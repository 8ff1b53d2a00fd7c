import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { configureHttpApp } from './bootstrap';

/** `module` as a service runs it (configureHttpApp), listening on a free local port; `base` is its URL. */
export async function listeningApp(module: Type): Promise<{ app: NestExpressApplication; base: string }> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}
