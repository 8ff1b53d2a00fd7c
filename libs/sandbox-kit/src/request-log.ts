import { DynamicModule, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { loggerOptions } from '@pinflow/logging';
import type { NextFunction, Request, Response } from 'express';
import { LoggerModule } from 'nestjs-pino';

/**
 * A sandbox's logger: pinflow's pino settings and redaction, without pino-http. Its child logger per
 * request (bindings serialised and redacted whatever the level) cost more CPU than a simulated vendor
 * call should; `RequestSummaryMiddleware` logs each request at debug instead. Applied to no route
 * rather than excluded from all, which Nest would still check at every request.
 */
export function sandboxLoggerModule(service: string, level: string): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: loggerOptions(service, level), forRoutes: [] });
}

/** Whether a sandbox logging at `level` writes debug lines. */
export function logsDebug(level: string): boolean {
  return level === 'debug' || level === 'trace';
}

/** One line per request at debug: method, URL, status and duration, never a body. Health probes are not logged. */
@Injectable()
export class RequestSummaryMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Requests');

  use(request: Request, response: Response, next: NextFunction): void {
    if (!/^\/health(\/|$)/.test(request.originalUrl)) {
      const started = performance.now();
      response.once('finish', () => {
        const responseTime = Math.round(performance.now() - started);
        this.logger.debug({ req: { method: request.method, url: request.originalUrl }, res: { statusCode: response.statusCode }, responseTime }, 'request completed');
      });
    }
    next();
  }
}
