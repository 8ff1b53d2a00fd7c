import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loggerOptions } from '@pinflow/logging';
import { Logger, LoggerModule } from 'nestjs-pino';
import { ProblemDetailsFilter } from './problem';

/** Structured request logging with the shared redaction rules; health probes are not logged. */
export function httpLoggerModule(service: string, level: string): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      ...loggerOptions(service, level),
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}

export interface HttpAppOptions {
  host: string;
  port: number;
  /**
   * How long a SIGTERM may take: consumers finish the message in hand and commit, producers flush.
   * Past it the process exits anyway, before Kubernetes' SIGKILL (30 s by default) would.
   */
  shutdownGraceMs?: number;
  /** Largest accepted JSON body; PIN requests are small. */
  bodyLimit?: string;
  /** Errors that mean a dependency is down or overloaded: answered 503 with Retry-After rather than 500. */
  isUnavailable?: (error: unknown) => boolean;
  /** Runs once the app's modules are initialised, before it listens: e.g. connecting its message consumers. */
  beforeListen?: (app: INestApplication) => Promise<void>;
}

/** A NestJS app with the pinflow conventions: pino logs, problem+json errors, graceful shutdown. */
export async function startHttpApp(module: DynamicModule, options: HttpAppOptions): Promise<INestApplication> {
  // abortOnError: false lets start-up errors reach startOrExit, which reports them and exits.
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: options.bodyLimit ?? '32kb' });
  app.useGlobalFilters(new ProblemDetailsFilter(options.isUnavailable));
  app.disable('x-powered-by');
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const graceMs = options.shutdownGraceMs ?? 25_000;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        process.stderr.write(`shutdown did not finish within ${graceMs} ms; exiting\n`);
        process.exit(1);
      }, graceMs).unref();
    });
  }
  if (options.beforeListen) {
    await app.init();
    await options.beforeListen(app);
  }
  await app.listen(options.port, options.host);
  return app;
}
