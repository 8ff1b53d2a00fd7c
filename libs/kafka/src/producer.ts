import { EVENTS_TOPIC, pinflowEvent, PinflowEvent } from '@pinflow/contracts';
import type { Kafka, Producer } from 'kafkajs';
import type { z } from 'zod';

export interface OutgoingMessage<T> {
  key: string;
  value: T;
  headers?: Record<string, string>;
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
    if (messages.length === 0) return;
    const encoded = messages.map((message) => ({
      key: message.key,
      value: JSON.stringify(schema.parse(message.value)),
      headers: { 'content-type': contentType, ...message.headers },
    }));
    await this.producer.send({ topic, acks: -1, messages: encoded });
  }

  /** pinflow events in CloudEvents structured mode, keyed by card id (the event's subject). */
  publishEvents(events: PinflowEvent[]): Promise<void> {
    return this.send(
      EVENTS_TOPIC,
      pinflowEvent,
      events.map((event) => ({ key: event.subject, value: event })),
      'application/cloudevents+json',
    );
  }
}
