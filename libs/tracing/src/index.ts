import { context, Link, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { NodeTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-node';

export { SpanKind };

const tracer = trace.getTracer('pinflow');
let enabled = false;

/** Carries trace context between services: W3C `traceparent` (and `tracestate`) headers. */
export type TraceHeaders = Record<string, string>;

/**
 * Whether the standard OpenTelemetry variables ask for traces: off unless OTEL_TRACES_EXPORTER is
 * `otlp`, and off whatever it says when OTEL_SDK_DISABLED is `true`.
 */
export function tracesRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === undefined || exporter === '' || exporter === 'none') return false;
  if (exporter !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER must be otlp or none, not ${exporter}`);
  return true;
}

/**
 * Starts tracing for the process, if asked: spans go over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS), sampled as OTEL_TRACES_SAMPLER
 * says, named OTEL_SERVICE_NAME or `service`. `spanProcessors` replaces the exporter (tests).
 * Returns the provider, whose shutdown flushes what is left; undefined when tracing is off, and then
 * every helper below costs nothing.
 */
export async function startTracing(service: string, options: { env?: NodeJS.ProcessEnv; spanProcessors?: SpanProcessor[] } = {}): Promise<NodeTracerProvider | undefined> {
  if (!options.spanProcessors && !tracesRequested(options.env)) return undefined;
  // Loaded only when traces are asked for: the SDK and its exporter are ~260 modules and ~9 MiB of a
  // service's memory, which a service that does not trace (the default) should not carry.
  const [{ OTLPTraceExporter }, { detectResources, envDetector, resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const detected = detectResources({ detectors: [envDetector] });
  await detected.waitForAsyncAttributes?.();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }).merge(detected),
    spanProcessors: options.spanProcessors ?? [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The W3C trace context propagator and the AsyncLocalStorage context manager, process-wide.
  provider.register();
  enabled = true;
  return provider;
}

/** The active trace context as headers for a message (Kafka headers, an outbox row); empty when tracing is off. */
export function traceHeaders(): TraceHeaders {
  const headers: TraceHeaders = {};
  if (enabled) propagation.inject(context.active(), headers);
  return headers;
}

export interface SpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
  /** Headers of the message or request this work continues: the span becomes a child of its trace. */
  parent?: TraceHeaders;
  /** Headers of several messages handled together (a fetched batch): the span links to each trace. */
  links?: TraceHeaders[];
}

function linkOf(headers: TraceHeaders): Link | undefined {
  const spanContext = trace.getSpanContext(propagation.extract(context.active(), headers));
  return spanContext && { context: spanContext };
}

/**
 * Runs `work` in a span, active for everything it starts (so messages it publishes carry it); an
 * error marks the span and is rethrown. Without tracing, just runs `work`.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const parent = options.parent ? propagation.extract(context.active(), options.parent) : context.active();
  const links = options.links?.map(linkOf).filter((link): link is Link => link !== undefined);
  return tracer.startActiveSpan(name, { kind: options.kind, attributes: options.attributes, links }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as { name?: string } | undefined)?.name });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** W3C trace context version 00: version, trace id, parent span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The trace id a message's `traceparent` header names, whether or not this process traces (so a
 * service with tracing off still tells which trace a message belonged to); undefined without a valid one.
 */
export function traceIdOf(headers: TraceHeaders): string | undefined {
  const traceId = TRACEPARENT.exec(headers.traceparent ?? '')?.[1];
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}
