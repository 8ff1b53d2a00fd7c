import { Controller, HttpCode, Module, Param, Post } from '@nestjs/common';
import { httpLoggerModule } from './bootstrap';
import { HealthModule } from './health';
import { servedForSpecs } from './http-app.spec-support';

@Controller('v1/cards/:cardId')
class CardsController {
  @Post('pin')
  @HttpCode(202)
  changePin(@Param('cardId') cardId: string): { cardId: string } {
    return { cardId };
  }
}

@Module({
  imports: [httpLoggerModule('spec', 'silent'), HealthModule.register({ inject: [], useFactory: () => [] })],
  controllers: [CardsController],
})
class CardsModule {}

const CARD_ID = 'card-5500000000000004';

describe('/metrics of an app made by createHttpApp', () => {
  const served = servedForSpecs(CardsModule);

  async function scrape(): Promise<string> {
    const response = await fetch(`${served.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    return response.text();
  }

  it('counts requests by route template and status, so no card id becomes a label value', async () => {
    await fetch(`${served.base}/v1/cards/${CARD_ID}/pin`, { method: 'POST' });
    await fetch(`${served.base}/v1/cards/${CARD_ID}/pin`, { method: 'POST' });
    await fetch(`${served.base}/v1/cards/${CARD_ID}/passcode`, { method: 'POST' });

    const metrics = await scrape();

    expect(metrics).toContain('pinflow_http_request_duration_seconds_count{method="POST",route="/v1/cards/:cardId/pin",status="202"} 2');
    // What no controller serves has no route template to name it.
    expect(metrics).toContain('pinflow_http_request_duration_seconds_count{method="POST",route="unmatched",status="404"} 1');
    expect(metrics).not.toContain(CARD_ID);
  });

  it('leaves probes and scrapes out of the request metrics', async () => {
    await fetch(`${served.base}/health/live`);
    await scrape();

    const metrics = await scrape();

    expect(metrics).not.toMatch(/route="\/(health|metrics)/);
  });

  it('exposes the default Node.js process metrics', async () => {
    expect(await scrape()).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
