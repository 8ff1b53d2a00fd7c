import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EventEmitter } from 'node:events';
import { summariseRequests } from './request-log';

function exchange(method: string, url: string, statusCode: number) {
  const response = Object.assign(new EventEmitter(), { statusCode });
  return { request: { method, url, body: { pin: '4821' } } as unknown as FastifyRequest, reply: { raw: response } as unknown as FastifyReply, response };
}

describe('the request summary', () => {
  let debug: jest.SpyInstance;

  beforeEach(() => {
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => debug.mockRestore());

  it('logs method, URL and status at debug once the answer is sent, never the body', () => {
    const { request, reply, response } = exchange('PUT', '/pcicards/v2/pcicards/card/c1', 201);
    const next = jest.fn();

    summariseRequests()(request, reply, next);
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
    const { request, reply, response } = exchange('GET', '/health/ready', 200);

    summariseRequests()(request, reply, jest.fn());
    response.emit('finish');

    expect(debug).not.toHaveBeenCalled();
  });
});
