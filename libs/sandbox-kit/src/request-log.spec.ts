import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { RequestSummaryMiddleware } from './request-log';

function exchange(method: string, url: string, statusCode: number): { request: Request; response: Response } {
  const response = Object.assign(new EventEmitter(), { statusCode }) as unknown as Response;
  return { request: { method, originalUrl: url, body: { pin: '4821' } } as Request, response };
}

describe('the request summary', () => {
  let debug: jest.SpyInstance;

  beforeEach(() => {
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => debug.mockRestore());

  it('logs method, URL and status at debug once the answer is sent, never the body', () => {
    const { request, response } = exchange('PUT', '/pcicards/v2/pcicards/card/c1', 201);
    const next = jest.fn();

    new RequestSummaryMiddleware().use(request, response, next);
    expect(next).toHaveBeenCalled();
    expect(debug).not.toHaveBeenCalled();
    response.emit('finish');

    expect(debug).toHaveBeenCalledWith(
      { req: { method: 'PUT', url: '/pcicards/v2/pcicards/card/c1' }, res: { statusCode: 201 }, responseTime: expect.any(Number) },
      'request completed',
    );
    expect(JSON.stringify(debug.mock.calls)).not.toContain('4821');
  });

  it('leaves health probes out', () => {
    const { request, response } = exchange('GET', '/health/ready', 200);

    new RequestSummaryMiddleware().use(request, response, jest.fn());
    response.emit('finish');

    expect(debug).not.toHaveBeenCalled();
  });
});
