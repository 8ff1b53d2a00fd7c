import { Controller, Get, Header } from '@nestjs/common';
import { histogram, METRICS_CONTENT_TYPE, scrapeMetrics, secondsSince } from '@pinflow/metrics';
import { inSpan, SpanKind, type TraceHeaders } from '@pinflow/tracing';
import type { IncomingMessage, ServerResponse } from 'node:http';

const httpRequestDuration = histogram({
  name: 'pinflow_http_request_duration_seconds',
  help: 'HTTP requests answered, by method, route template and status, and how long they took (probes and scrapes excluded)',
  labelNames: ['method', 'route', 'status'],
});

/** What Express knows of a request once routed: the matched route's template, never the URL. */
export interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}

/** Requests of the platform rather than its users: Kubernetes probes and Prometheus scrapes. */
export function isProbeOrScrape(url: string): boolean {
  return url.startsWith('/health') || url.startsWith('/metrics');
}

/**
 * The route a request matched, as its template (`/v1/pismo/cards/:cardId/pin`, or Nest's catch-all
 * `/{*path}` for a 404), so card ids never become label values; `unmatched` for a request refused
 * before routing (a body too large, say).
 */
export function routeTemplateOf(request: RoutedRequest): string {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : 'unmatched';
}

/**
 * Express middleware observing each answered request in pinflow_http_request_duration_seconds and,
 * with tracing on, tracing it as a server span (a child of the caller's `traceparent`, if any) that
 * is active while the request is handled.
 */
export function recordHttpRequests(request: RoutedRequest, response: ServerResponse, next: () => void): void {
  if (isProbeOrScrape(request.url ?? '')) return next();
  const startedAt = performance.now();
  void inSpan(request.method ?? 'HTTP', { kind: SpanKind.SERVER, parent: request.headers as TraceHeaders }, (span) => {
    // 'close' comes after the answer, or instead of it when the caller went away.
    const closed = new Promise<void>((resolve) => response.once('close', resolve)).then(() => {
      const route = routeTemplateOf(request);
      span?.updateName(`${request.method} ${route}`);
      span?.setAttributes({ 'http.request.method': request.method, 'http.route': route, 'http.response.status_code': response.statusCode });
      if (response.writableFinished) httpRequestDuration.observe({ method: request.method, route, status: response.statusCode }, secondsSince(startedAt));
    });
    next();
    return closed;
  });
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
