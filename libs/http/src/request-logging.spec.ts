import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { storage } from 'nestjs-pino/storage';
import { httpLoggerModule } from './bootstrap';
import { HealthModule } from './health';
import { listeningApp } from './http-app.spec-support';

@Controller('v1/cards/:cardId')
class CardsController {
  @Post('pin')
  @HttpCode(202)
  changePin(): { bound: boolean } {
    return { bound: storage.getStore() !== undefined };
  }
}

@Module({
  imports: [httpLoggerModule('spec', 'silent'), HealthModule.register({ inject: [], useFactory: () => [] })],
  controllers: [CardsController],
})
class CardsModule {}

describe('request logging of an app configured by configureHttpApp', () => {
  let app: NestExpressApplication;
  let base: string;

  beforeAll(async () => {
    ({ app, base } = await listeningApp(CardsModule));
  });

  afterAll(() => app.close());
  afterEach(() => jest.restoreAllMocks());

  it('logs an API request with a logger bound to it', async () => {
    const response = await fetch(`${base}/v1/cards/card-1/pin`, { method: 'POST' });

    expect(await response.json()).toEqual({ bound: true });
  });

  it('leaves probes and scrapes alone: no log line and no request-bound logger, so they never turn on promise hooks', async () => {
    const binding = jest.spyOn(storage, 'run');

    for (const path of ['/health/live', '/health/ready', '/metrics']) expect((await fetch(`${base}${path}`)).status).toBe(200);

    expect(binding).not.toHaveBeenCalled();
  });
});
