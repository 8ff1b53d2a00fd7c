import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { contractOf, EVENTS_TOPIC } from '@pinflow/contracts';
import type { OutgoingMessage, JsonProducer } from '../producer';

/**
 * The emitting side of the pinflow transport: `client.emit(topic, message | messages)` publishes
 * through the service's JsonProducer (idempotent, coalesced, checked against the topic's contract),
 * and the returned observable completes once the broker acknowledged. Events only: pinflow answers
 * with events, never with request-response over Kafka.
 */
export class PinflowKafkaClient extends ClientProxy {
  constructor(private readonly producer: JsonProducer) {
    super();
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }

  unwrap<T>(): T {
    return this.producer as T;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket<OutgoingMessage<unknown> | OutgoingMessage<unknown>[]>): Promise<T> {
    const topic = this.normalizePattern(packet.pattern);
    const messages = Array.isArray(packet.data) ? packet.data : [packet.data];
    await this.producer.send(topic, contractOf(topic), messages, topic === EVENTS_TOPIC ? 'application/cloudevents+json' : 'application/json');
    return undefined as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('the pinflow Kafka transport carries events only: use emit'), isDisposed: true });
    return () => undefined;
  }
}
