import { DynamicModule, INestApplication, RequestMethod, type ExceptionFilter, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loggerOptions } from '@pinflow/logging';
import { startTracing } from '@pinflow/tracing';
import { Logger, LoggerModule } from 'nestjs-pino';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { limitAdmission, refuseWhileClosing, type AdmissionLimitOptions } from './admission-limit';
import { recordHttpRequests } from './metrics';
import { problem, ProblemDetailsFilter, type Problem } from './problem';
import { acceptJsonBodiesOnly, BODY_LIMIT_BYTES } from './request-bodies';

/**
 * Probes and scrapes get neither a log line nor a request-bound logger. Binding one (nestjs-pino's
 * AsyncLocalStorage.run) turns Node 20's promise hooks on for the whole process, for good: every
 * promise of the service pays for them from then on, even in a worker whose only HTTP requests are
 * its probes.
 */
const PROBES_AND_SCRAPES = [
  { path: 'health/{*probe}', method: RequestMethod.ALL },
  { path: 'metrics', method: RequestMethod.ALL },
];

/** Structured request logging with the shared redaction rules; health probes and metric scrapes are not logged. */
export function httpLoggerModule(service: string, level: string): DynamicModule {
  return LoggerModule.forRoot({
    exclude: PROBES_AND_SCRAPES,
    pinoHttp: {
      ...loggerOptions(service, level),
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
  /** The service's name in its traces (unless OTEL_SERVICE_NAME says otherwise); tracing is off unless OTEL_TRACES_EXPORTER=otlp. */
  service: string;
  /**
   * How long a SIGTERM may take: consumers finish the message in hand and commit, producers flush.
   * Past it the process exits anyway, before Kubernetes' SIGKILL (30 s by default) would.
   */
  shutdownGraceMs?: number;
  /** Errors that mean a dependency is down or overloaded: answered 503 with Retry-After rather than 500. */
  isUnavailable?: (error: unknown) => boolean;
  /**
   * Answers the errors no controller's filter answered (a refused body, a path no route serves), made
   * by the app's providers; {@link ProblemDetailsFilter} unless given.
   */
  errorFilter?: Type<ExceptionFilter>;
  /** Requests refused at once (503) beyond a number in progress: see {@link limitAdmission}. */
  admission?: AdmissionLimitOptions;
  /** Runs once the app's modules are initialised, before it listens: e.g. connecting its message consumers. */
  beforeListen?: (app: INestApplication) => Promise<void>;
}

type HttpAppSetup = Pick<HttpAppOptions, 'isUnavailable' | 'admission' | 'errorFilter'>;

/**
 * What Node's HTTP parser answers itself, before any route or filter runs (the codes are llhttp's and
 * Node's): the same statuses Node would send, with a problem document instead of an empty body.
 */
const PARSER_REFUSALS: Record<string, Problem> = {
  HPE_HEADER_OVERFLOW: problem(431, 'REQUEST_HEADER_FIELDS_TOO_LARGE', 'Request header fields too large', 'The request headers are larger than this server accepts.'),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: problem(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', 'The chunk extensions are larger than this server accepts.'),
  ERR_HTTP_REQUEST_TIMEOUT: problem(408, 'REQUEST_TIMEOUT', 'Request timeout', 'The request did not arrive in time.'),
};
const MALFORMED_REQUEST = problem(
  400,
  'MALFORMED_REQUEST',
  'Malformed request',
  'The request is not valid HTTP/1.1: for instance two Content-Length headers, or Content-Length with Transfer-Encoding.',
);

/**
 * Answers a request Node's parser refuses with a problem document instead of an empty 400, 408 or
 * 431, then closes the connection as Node does: what follows on it cannot be trusted.
 */
function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Socket): void {
  // As in Node's own handler: a connection that is gone, or already answered, gets nothing more.
  if (error.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const refusal = PARSER_REFUSALS[error.code ?? ''] ?? MALFORMED_REQUEST;
  const body = JSON.stringify(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: application/problem+json\r\nCache-Control: no-store\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Fastify under the apps: a NestJS controller on it costs about half the CPU per request it costs on
 * Express (94–109 µs against 195–299 µs measured), which every PIN change pays at intake and at the
 * vendor's sandbox.
 */
function httpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Node closes an idle keep-alive connection after 5 s, which races a client (or load balancer)
    // that reuses it just then: the request meets a reset. Idle connections stay longer than clients keep them.
    keepAliveTimeout: 65_000,
    // Node's own limit on receiving a whole request, which Fastify would otherwise turn off.
    requestTimeout: 300_000,
    clientErrorHandler: answerUnparsableRequest,
  });
  // Before the app's modules are made, so that a module may add a parser of its own (acceptFormsAt).
  acceptJsonBodiesOnly(adapter.getInstance());
  return adapter;
}

/**
 * The pinflow conventions for an app's HTTP layer: pino logs, request metrics, problem+json for every
 * refusal (the framework's, the body parser's and Node's HTTP parser's alike), only small, uncompressed
 * JSON bodies, and nothing cached unless a handler says otherwise.
 */
function configureHttpApp(app: NestFastifyApplication, options: HttpAppSetup): void {
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', recordHttpRequests);
  // Answers carry card ids, request states and audit trails, refusals included: no cache, shared or
  // private, may keep them. A handler with public data says so with its own @Header (the PIN keys).
  // Set on Node's response, so that answers sent past Fastify's reply (a refusal) carry it too.
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.raw.setHeader('Cache-Control', 'no-store');
    done();
  });
  app.useGlobalFilters(options.errorFilter ? app.get(options.errorFilter) : new ProblemDetailsFilter(options.isUnavailable));
  const server: Server = app.getHttpServer();
  server.headersTimeout = 66_000;
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  refuseWhileClosing(server, () => closing);
  if (options.admission) limitAdmission(server, options.admission);
}

/**
 * `module` as a NestJS app on Fastify with the pinflow conventions ({@link configureHttpApp}), not yet
 * listening. `abortOnError: false` lets start-up errors reach the caller, which reports them.
 */
export async function createHttpApp(module: DynamicModule | Type, options: HttpAppSetup = {}): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, httpAdapter(), { bufferLogs: true, bodyParser: false, abortOnError: false });
  configureHttpApp(app, options);
  return app;
}

/**
 * Connections the kernel holds for the app before it accepts them. Node's default, 511, overflows when
 * hundreds of clients connect at once under overload: the kernel then drops their handshakes, and they
 * meet a reset or a time-out instead of the admission limit's 503. Linux caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

/** The module, with a last shutdown hook that exports the spans left once the listener and the consumers stopped. */
function flushingTracesLast(module: DynamicModule, tracing: { shutdown(): Promise<void> }): DynamicModule {
  const flush = { provide: 'PINFLOW_TRACE_FLUSH', useValue: { onApplicationShutdown: () => tracing.shutdown() } };
  return { ...module, providers: [...(module.providers ?? []), flush] };
}

/** A NestJS app with the pinflow conventions ({@link configureHttpApp}) and graceful shutdown, listening. */
export async function startHttpApp(module: DynamicModule, options: HttpAppOptions): Promise<INestApplication> {
  const tracing = await startTracing(options.service);
  const app = await createHttpApp(tracing ? flushingTracesLast(module, tracing) : module, options);
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
  await app.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG });
  return app;
}
