import { DynamicModule, Logger } from '@nestjs/common';
import { loggerOptions } from '@pinflow/logging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoggerModule } from 'nestjs-pino';

/**
 * A sandbox's logger: pinflow's pino settings and redaction, without pino-http. Its child logger per
 * request (bindings serialised and redacted whatever the level) cost more CPU than a simulated vendor
 * call should; `summariseRequests` logs each request at debug instead. Applied to no route
 * rather than excluded from all, which Nest would still check at every request.
 */
export function sandboxLoggerModule(service: string, level: string): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: loggerOptions(service, level), forRoutes: [] });
}

/** Whether a sandbox logging at `level` writes debug lines. */
export function logsDebug(level: string): boolean {
  return level === 'debug' || level === 'trace';
}

/** Fastify `onRequest` hook: one line per request at debug (method, URL, status and duration, never a body); health probes are not logged. */
export function summariseRequests(): (request: FastifyRequest, reply: FastifyReply, done: () => void) => void {
  const logger = new Logger('Requests');
  return (request, reply, done) => {
    if (!/^\/health(\/|$)/.test(request.url)) {
      const started = performance.now();
      reply.raw.once('finish', () => {
        const responseTime = Math.round(performance.now() - started);
        logger.debug({ req: { method: request.method, url: request.url }, res: { statusCode: reply.raw.statusCode }, responseTime }, 'request completed');
      });
    }
    done();
  };
}
