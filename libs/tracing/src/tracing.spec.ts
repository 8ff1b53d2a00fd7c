import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { inSpan, SpanKind, startTracing, traceHeaders, traceIdOf, tracesRequested } from './index';

describe('tracing configuration (standard OTEL_* variables)', () => {
  it('is off by default, and when OTEL_TRACES_EXPORTER is none or the SDK is disabled', () => {
    expect(tracesRequested({})).toBe(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });

  it('is on with OTEL_TRACES_EXPORTER=otlp, and refuses an exporter it does not ship', () => {
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(() => tracesRequested({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow('OTEL_TRACES_EXPORTER must be otlp or none, not zipkin');
  });

  it('starts nothing when off: messages carry no trace headers and work runs outside any span', async () => {
    expect(await startTracing('spec', { env: {} })).toBeUndefined();

    expect(traceHeaders()).toEqual({});
    await inSpan('work', { kind: SpanKind.INTERNAL }, async (span) => {
      expect(span).toBeUndefined();
      expect(trace.getActiveSpan()).toBeUndefined();
    });
  });
});

describe('traceIdOf', () => {
  it("reads the trace id of a message's W3C traceparent, with tracing off too", () => {
    expect(traceIdOf({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('has none for a message without one, a malformed one, or the all-zero id W3C declares invalid', () => {
    expect(traceIdOf({})).toBeUndefined();
    expect(traceIdOf({ traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(traceIdOf({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 x' })).toBeUndefined();
    expect(traceIdOf({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })).toBeUndefined();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();

  beforeAll(async () => {
    await startTracing('spec-service', { spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });

  it('hands the active span on in W3C traceparent headers, and continues a trace from them', async () => {
    let headers: Record<string, string> = {};
    await inSpan('accept', { kind: SpanKind.SERVER }, async () => {
      headers = traceHeaders();
    });
    await inSpan('handle', { kind: SpanKind.CONSUMER, parent: headers }, async () => undefined);

    const [accept, handle] = exporter.getFinishedSpans();
    expect(headers.traceparent).toBe(`00-${accept.spanContext().traceId}-${accept.spanContext().spanId}-01`);
    expect(handle.spanContext().traceId).toBe(accept.spanContext().traceId);
    expect(handle.parentSpanContext?.spanId).toBe(accept.spanContext().spanId);
    expect(accept.resource.attributes['service.name']).toBe('spec-service');
  });

  it('links a span that handles messages of several traces to each of them', async () => {
    exporter.reset();
    const traces: Record<string, string>[] = [];
    for (const name of ['first', 'second']) await inSpan(name, { kind: SpanKind.PRODUCER }, async () => void traces.push(traceHeaders()));

    await inSpan('batch', { kind: SpanKind.CONSUMER, links: traces }, async () => undefined);

    const [first, second, batch] = exporter.getFinishedSpans();
    expect(batch.links.map((link) => link.context.spanId)).toEqual([first.spanContext().spanId, second.spanContext().spanId]);
  });

  it('marks a span whose work failed with the error’s name only (messages can quote data), and rethrows', async () => {
    exporter.reset();

    await expect(inSpan('fails', { kind: SpanKind.INTERNAL }, async () => Promise.reject(new RangeError('PIN 4711 is weak')))).rejects.toThrow(RangeError);

    const [failed] = exporter.getFinishedSpans();
    expect(failed.status).toEqual({ code: 2, message: 'RangeError' });
    expect(JSON.stringify({ status: failed.status, events: failed.events, attributes: failed.attributes })).not.toContain('4711');
  });
});
