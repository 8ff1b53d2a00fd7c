import { EncodedMessage, encodeBatches, type JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { setTimeout as sleep } from 'node:timers/promises';
import { PismoEvent, pismoEvent } from './pismo-events';

interface Waiting {
  messages: EncodedMessage[];
  resolve: () => void;
  reject: (error: Error) => void;
}

const MAX_EVENTS_PER_SEND = 500;
const MAX_BACKOFF_MS = 5_000;
/**
 * How long the first event after a quiet spell waits for others to share its send. A produce request
 * costs the sandbox far more CPU than the vendor call that caused it (about 0.4 ms against 1 ms for
 * all the rest, measured at 16 calls in flight); calls that arrive while a send is in flight already
 * share the next one. Small next to a real vendor's latency.
 */
const SEND_LINGER_MS = 2;

/**
 * Publishes Pismo events keyed by card id, in the order the changes happened, and never drops one:
 * a failed send is retried until the broker takes it (Pismo's delivery is at-least-once). Events
 * queued while a send is in flight, or within SEND_LINGER_MS of the first, go out together.
 */
export class EventOutbox {
  private readonly waiting: Waiting[] = [];
  private draining = false;
  private failing = false;
  private closed = false;

  /** `producer` is connected before the first publish (the HTTP server only listens after start-up). */
  constructor(
    private readonly producer: JsonProducer,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  /** False while the broker refuses events, and after close. */
  isReady(): boolean {
    return !this.failing && !this.closed;
  }

  /** Resolves once the broker has acknowledged every event. */
  publish(events: PismoEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the event outbox is closed'));
    let messages: EncodedMessage[];
    try {
      // Validated and encoded once, not at every retry. A malformed event is a bug, not a broker fault:
      // refused now rather than retried forever.
      messages = encodeBatches([{ topic: this.topic, schema: pismoEvent, messages: events.map((event) => ({ key: String(event.data.card_id), value: event })) }]);
    } catch {
      return Promise.reject(new Error(`refusing to publish a malformed event among ${events.map((event) => event.event_type).join(', ')}`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** Gives queued events `graceMs` to leave, then abandons the rest (their callers see an error). The producer stays connected. */
  async close(graceMs = 5_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.draining && Date.now() < deadline) await sleep(50);
    this.closed = true;
    const abandoned = this.waiting.splice(0);
    if (abandoned.length > 0) this.logger.error({ requests: abandoned.length }, 'shutting down with unpublished Pismo events');
    for (const waiting of abandoned) waiting.reject(new Error('the event outbox closed before the events were published'));
  }

  private async drain(): Promise<void> {
    this.draining = true;
    await sleep(SEND_LINGER_MS);
    while (this.waiting.length > 0 && !this.closed) {
      const batch = this.takeBatch();
      try {
        await this.sendUntilAccepted(batch.flatMap((waiting) => waiting.messages));
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        for (const waiting of batch) waiting.reject(error as Error);
      }
    }
    this.draining = false;
  }

  private takeBatch(): Waiting[] {
    let events = 0;
    let count = 0;
    while (count < this.waiting.length && (count === 0 || events + this.waiting[count].messages.length <= MAX_EVENTS_PER_SEND)) {
      events += this.waiting[count].messages.length;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private async sendUntilAccepted(messages: EncodedMessage[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.producer.sendEncoded(messages);
        if (this.failing) this.logger.info({ topic: this.topic }, 'publishing Pismo events again');
        this.failing = false;
        return;
      } catch (error) {
        if (this.closed) throw error;
        this.failing = true;
        this.logger.warn({ topic: this.topic, attempt, error: (error as Error).message }, 'could not publish Pismo events; retrying');
        await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 5)));
      }
    }
  }
}
