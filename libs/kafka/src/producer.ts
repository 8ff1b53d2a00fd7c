import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import type { Kafka, Producer } from 'kafkajs';
import type { z } from 'zod';

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

export function eventBatch(events: PinflowEvent[]): TopicBatch {
  return {
    topic: EVENTS_TOPIC,
    schema: pinflowEvent,
    messages: events.map((event) => ({ key: event.subject, value: event })),
    contentType: 'application/cloudevents+json',
  };
}

/**
 * Idempotent producer (acks=all, one in-flight request) that validates every message against its
 * contract before it leaves the process: a service can only publish what its consumers accept.
 */
export class JsonProducer {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
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
    const topicMessages = batches
      .filter((batch) => batch.messages.length > 0)
      .map((batch) => ({
        topic: batch.topic,
        messages: batch.messages.map((message) => ({
          key: message.key,
          value: JSON.stringify(batch.schema.parse(message.value)),
          headers: { 'content-type': batch.contentType ?? 'application/json', ...message.headers },
        })),
      }));
    if (topicMessages.length > 0) await this.producer.sendBatch({ acks: -1, topicMessages });
  }

  /** pinflow events in CloudEvents structured mode, keyed by card id (the event's subject). */
  publishEvents(events: PinflowEvent[]): Promise<void> {
    return this.sendBatch([eventBatch(events)]);
  }
}
