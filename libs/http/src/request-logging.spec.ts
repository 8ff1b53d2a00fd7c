import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { storage } from 'nestjs-pino/storage';
import { httpLoggerModule } from './bootstrap';
import { HealthModule } from './health';
import { servedForSpecs } from './http-app.spec-support';

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

describe('request logging of an app made by createHttpApp', () => {
  const served = servedForSpecs(CardsModule);
  afterEach(() => jest.restoreAllMocks());

  it('logs an API request with a logger bound to it', async () => {
    const response = await fetch(`${served.base}/v1/cards/card-1/pin`, { method: 'POST' });

    expect(await response.json()).toEqual({ bound: true });
  });

  it('leaves probes and scrapes alone: no log line and no request-bound logger, so they never turn on promise hooks', async () => {
    const binding = jest.spyOn(storage, 'run');

    for (const path of ['/health/live', '/health/ready', '/metrics']) expect((await fetch(`${served.base}${path}`)).status).toBe(200);

    expect(binding).not.toHaveBeenCalled();
  });
});
