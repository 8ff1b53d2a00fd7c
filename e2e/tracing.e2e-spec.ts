import { EVENT_TYPES, EVENTS_TOPIC } from '@pinflow/contracts';
import { waitFor } from '@pinflow/testing';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startSuite, Suite } from './support';

interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
}

interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'service' | 'links'> & { links?: ExportedSpan['links'] }> }>;
  }>;
}

/** What an OpenTelemetry collector would receive over OTLP/HTTP (JSON), kept in memory. */
class OtlpReceiver {
  readonly spans: ExportedSpan[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const traces = JSON.parse(Buffer.concat(chunks).toString()) as OtlpTraces;
      for (const { resource, scopeSpans } of traces.resourceSpans) {
        const service = resource.attributes.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '';
        for (const { spans } of scopeSpans) this.spans.push(...spans.map((span) => ({ ...span, service, links: span.links ?? [] })));
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * With OTEL_TRACES_EXPORTER=otlp, a PIN change is one trace from intake's HTTP request through the
 * outbox and Kafka to the worker and its call to the vendor; the services that record events in
 * batches (audit, intake's status) link their spans to it. Each service is its own process, exporting
 * to a collector this suite stands in for.
 */
describe('tracing a PIN change across the services', () => {
  const receiver = new OtlpReceiver();
  let suite: Suite;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    const tracing = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    suite = await startSuite({
      apps: ['sandbox-pismo', 'worker-pismo', 'audit', 'intake'],
      env: { intake: tracing, 'worker-pismo': tracing, audit: tracing },
      writer: 'mobile-backend',
      topics: [EVENTS_TOPIC],
    });
  }, 180_000);

  afterAll(async () => {
    await suite?.stop();
    await receiver.stop();
  }, 60_000);

  it('follows the change from the request to the vendor call and Pismo’s event in one trace, and links the audit record to it', async () => {
    const { client } = suite;
    const cardId = `card-${randomUUID().slice(0, 8)}`;
    await client.seedCard(cardId);
    const accepted = await client.changePin(cardId, { encryptedPin: await client.encrypt('739146') });
    expect((await client.outcome(accepted.body.requestId)).status).toBe('succeeded');

    const named = (service: string, name: string) => receiver.spans.filter((span) => span.service === service && span.name === name);
    const request = await waitFor('intake’s span of the request', async () => named('intake', 'POST /v1/pismo/cards/:cardId/pin')[0]);
    const { traceId } = request;
    const inTrace = (service: string, name: string) => named(service, name).find((span) => span.traceId === traceId);
    const command = await waitFor('worker-pismo’s span of the command', async () => inTrace('worker-pismo', 'pinflow.commands.pismo.v1 process'));
    const vendorCall = await waitFor('worker-pismo’s span of the call to Pismo', async () => inTrace('worker-pismo', 'pismo call'));
    // Pismo's update_password-1 echoes only the cid: worker-pismo resumes the command's trace from its ledger.
    const pismoEvent = await waitFor('worker-pismo’s span of Pismo’s event', async () => inTrace('worker-pismo', 'pismo event'));
    const audit = await waitFor('audit’s span linked to the trace', async () =>
      named('audit', `${EVENTS_TOPIC} process`).find((span) => span.links.some((link) => link.traceId === traceId)),
    );

    expect(command.parentSpanId).toBe(request.spanId);
    expect(vendorCall.parentSpanId).toBe(command.spanId);
    expect(pismoEvent.parentSpanId).toBe(command.spanId);
    expect(audit.links).toContainEqual(expect.objectContaining({ traceId, spanId: request.spanId }));
    const recorded = await waitFor('the outcome in the audit trail', async () => {
      const { body } = await client.auditRequest(accepted.body.requestId);
      return (body.events as { type: string; traceId: string | null }[]).find((event) => event.type === EVENT_TYPES.passwordChanged);
    });
    expect(recorded.traceId).toBe(traceId);
    expect(JSON.stringify(receiver.spans)).not.toContain('739146');
  });
});
