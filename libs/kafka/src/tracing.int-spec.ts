import { createLogger } from '@pinflow/logging';
import { testEnv, waitFor } from '@pinflow/testing';
import { inSpan, SpanKind, startTracing } from '@pinflow/tracing';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { createKafka, encodeBatches, ensureTopics, JsonProducer, RunningConsumer, startConsumer } from './index';

const note = z.object({ id: z.uuid() });

/**
 * One trace per change across Kafka, as pinflow's services pass it on: intake encodes its messages
 * for the outbox inside the request's span, the relay publishes them later outside it, a worker's
 * consumer continues the trace and publishes its outcome, which a batch consumer (audit's kind) links to.
 */
describe('trace context across Kafka on a real broker', () => {
  const logger = createLogger('tracing-int-spec', 'silent');
  const exporter = new InMemorySpanExporter();
  let kafka: Kafka;
  let producer: JsonProducer;
  const consumers: RunningConsumer[] = [];

  async function newTopic(name: string): Promise<string> {
    const topic = `it.${name}.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }], 1);
    return topic;
  }

  beforeAll(async () => {
    await startTracing('tracing-int-spec', { spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const { kafkaBrokers } = testEnv();
    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 },
      'tracing-int-spec',
      logger,
    );
    producer = new JsonProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await producer.disconnect();
  });

  it('links the request, the outbox publication, the worker, its vendor call and the outcome’s consumer in one trace', async () => {
    const commands = await newTopic('commands');
    const events = await newTopic('events');
    const recorded: string[] = [];
    const common = { kafka, schema: note, logger, partitionsConsumedConcurrently: 1 };
    consumers.push(
      await startConsumer({
        ...common,
        groupId: `it-worker-${randomUUID()}`,
        topics: [commands],
        handle: async (command) => {
          await inSpan('vendor call', { kind: SpanKind.CLIENT }, async () => undefined);
          await producer.send(events, note, [{ key: 'card', value: { id: command.id } }]);
        },
      }),
      await startConsumer({
        ...common,
        groupId: `it-audit-${randomUUID()}`,
        topics: [events],
        handleBatch: async (messages) => void recorded.push(...messages.map((message) => message.value.id)),
      }),
    );
    const commandId = randomUUID();

    const outbox = await inSpan('POST /v1/pismo/cards/:cardId/pin', { kind: SpanKind.SERVER }, async () =>
      encodeBatches([{ topic: commands, schema: note, messages: [{ key: 'card', value: { id: commandId } }] }]),
    );
    await producer.sendEncoded(outbox);
    await waitFor('the outcome recorded', async () => recorded.includes(commandId), 30_000);

    await waitFor('the spans ended', async () => exporter.getFinishedSpans().length >= 4);
    const spans = exporter.getFinishedSpans();
    const named = (name: string) => spans.find((span) => span.name === name)!;
    const request = named('POST /v1/pismo/cards/:cardId/pin');
    const worker = named(`${commands} process`);
    const vendorCall = named('vendor call');
    const audit = named(`${events} process`);
    const traceId = request.spanContext().traceId;
    expect(outbox[0].headers.traceparent).toBe(`00-${traceId}-${request.spanContext().spanId}-01`);
    expect(worker.spanContext().traceId).toBe(traceId);
    expect(worker.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(worker.kind).toBe(SpanKind.CONSUMER);
    expect(worker.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': commands });
    expect(vendorCall.spanContext().traceId).toBe(traceId);
    expect(vendorCall.parentSpanContext?.spanId).toBe(worker.spanContext().spanId);
    expect(audit.links.map((link) => link.context)).toEqual([expect.objectContaining({ traceId, spanId: worker.spanContext().spanId })]);
  });
});
