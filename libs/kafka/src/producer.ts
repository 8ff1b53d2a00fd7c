import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import { traceHeaders } from '@pinflow/tracing';
import type { Kafka } from 'kafkajs';
import type { z } from 'zod';
import { IdempotentProducer } from './idempotent-producer';
import type { SignsMessages } from './message-signing';

export interface OutgoingMessage<T> {
  key: string;
  value: T;
  headers?: Record<string, string>;
}

export interface TopicBatch {
  topic: string;
  schema: z.ZodType;
  messages: OutgoingMessage<unknown>[];
  contentType?: string;
}

/** A message checked against its contract and serialised, ready for the broker. */
export interface EncodedMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Validates every message against its contract and serialises it; throws on the first that breaks it.
 * With tracing on, each message carries the active trace context (`traceparent`), so its consumers'
 * spans join the trace of the work that published it, even from an outbox.
 */
export function encodeBatches(batches: TopicBatch[]): EncodedMessage[] {
  const trace = traceHeaders();
  return batches.flatMap((batch) =>
    batch.messages.map((message) => ({
      topic: batch.topic,
      key: message.key,
      value: JSON.stringify(batch.schema.parse(message.value)),
      headers: { 'content-type': batch.contentType ?? 'application/json', ...trace, ...message.headers },
    })),
  );
}

/** Events for pinflow.events.v1 or, copied, for a requester's reply topic. */
export function eventBatch(events: PinflowEvent[], topic = EVENTS_TOPIC): TopicBatch {
  return {
    topic,
    schema: pinflowEvent,
    messages: events.map((event) => ({ key: event.subject, value: event })),
    contentType: 'application/cloudevents+json',
  };
}

/**
 * Idempotent producer (acks=all, see {@link IdempotentProducer}) that validates every message against
 * its contract before it leaves the process: a service can only publish what its consumers accept.
 * With `signing`, every message leaves signed for its topic, as it is sent (see IdempotentProducer).
 */
export class JsonProducer {
  private readonly producer: IdempotentProducer;

  /** `lingerMs`: see IdempotentProducer; worth it where many handlers send concurrently, a delay for one that sends a batch at a time. */
  constructor(kafka: Kafka, signing?: SignsMessages, lingerMs = 0) {
    this.producer = new IdempotentProducer(kafka, signing, lingerMs);
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async send<S extends z.ZodType>(topic: string, schema: S, messages: OutgoingMessage<z.input<S>>[], contentType = 'application/json'): Promise<void> {
    await this.sendBatch([{ topic, schema, messages, contentType }]);
  }

  /** Several topics in one produce request: one round trip, one failure to handle. */
  async sendBatch(batches: TopicBatch[]): Promise<void> {
    await this.sendEncoded(encodeBatches(batches));
  }

  /** Messages validated and encoded earlier (by {@link encodeBatches}), e.g. kept in an outbox. */
  async sendEncoded(messages: EncodedMessage[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
    for (const { topic, key, value, headers } of messages) {
      const topicMessages = byTopic.get(topic) ?? [];
      topicMessages.push({ key, value, headers });
      byTopic.set(topic, topicMessages);
    }
    if (byTopic.size > 0) await this.producer.sendBatch([...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })));
  }

  /** pinflow events in CloudEvents structured mode, keyed by card id (the event's subject). */
  publishEvents(events: PinflowEvent[]): Promise<void> {
    return this.sendBatch([eventBatch(events)]);
  }
}
