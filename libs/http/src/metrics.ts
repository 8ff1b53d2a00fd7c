import { Controller, Get, Header } from '@nestjs/common';
import { histogram, METRICS_CONTENT_TYPE, scrapeMetrics, secondsSince } from '@pinflow/metrics';
import { inSpan, SpanKind, type TraceHeaders } from '@pinflow/tracing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';

const httpRequestDuration = histogram({
  name: 'pinflow_http_request_duration_seconds',
  help: 'HTTP requests answered, by method, route template and status, and how long they took (probes and scrapes excluded)',
  labelNames: ['method', 'route', 'status'],
});

/** Requests of the platform rather than its users: Kubernetes probes and Prometheus scrapes. */
export function isProbeOrScrape(url: string): boolean {
  return url.startsWith('/health') || url.startsWith('/metrics');
}

/**
 * Observes one request in pinflow_http_request_duration_seconds once it is answered and, with tracing
 * on, traces it as a server span (a child of the caller's `traceparent`, if any) that is active while
 * `handle` and what it starts run. `routeOf` tells the route once the request is answered: its
 * template (`/v1/pismo/cards/:cardId/pin`), so card ids never become label values.
 */
export function observeHttpRequest(request: IncomingMessage, response: ServerResponse, routeOf: () => string, handle: () => void): void {
  const startedAt = performance.now();
  void inSpan(request.method ?? 'HTTP', { kind: SpanKind.SERVER, parent: request.headers as TraceHeaders }, (span) => {
    // 'close' comes after the answer, or instead of it when the caller went away.
    const closed = new Promise<void>((resolve) => response.once('close', resolve)).then(() => {
      const route = routeOf();
      span?.updateName(`${request.method} ${route}`);
      span?.setAttributes({ 'http.request.method': request.method, 'http.route': route, 'http.response.status_code': response.statusCode });
      if (response.writableFinished) httpRequestDuration.observe({ method: request.method, route, status: response.statusCode }, secondsSince(startedAt));
    });
    handle();
    return closed;
  });
}

/** The route label of a request refused before routing (a body too large, a path no route serves). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Fastify `onRequest` hook: every request but probes and scrapes, by the route it matched (see {@link observeHttpRequest}). */
export function recordHttpRequests(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (isProbeOrScrape(request.url)) return done();
  observeHttpRequest(request.raw, reply.raw, () => request.routeOptions.url ?? UNMATCHED_ROUTE, done);
}

/** `/metrics`: the process's metrics in Prometheus' text format. */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return scrapeMetrics();
  }
}
