import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import type { Logger } from '@pinflow/logging';
import type { FactoryProvider } from '@nestjs/common';
import { Kafka as KafkaClient } from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { z } from 'zod';
import { HandlerVerdict, MessageMeta, RunningConsumer, startConsumer } from '../consumer';
import type { InFlightLimit } from '../in-flight-limit';
import { MessageTrust, VerifiesMessages } from '../message-signing';
import { KafkaMessageContext } from './message-context';

/** Per handler, as `@EventPattern(topic, options)`'s second argument. */
export interface KafkaHandlerOptions {
  /** The payload is the array of a partition's fetched messages (one multi-row statement instead of one per message). */
  batch?: boolean;
  /** Consumer group of this handler (default: the server's). Each handler has a consumer, and so a group, of its own. */
  groupId?: string;
  /** Keys of a partition's fetch worked on at once, each key's messages in order (default 1). */
  keysConsumedConcurrently?: number;
  maxHandlingAttempts?: number;
  /** Places shared with other handlers or partitions (see ConsumerOptions.inFlight). */
  inFlight?: InFlightLimit;
  /**
   * The topics the handler consumes when they are known only from the deployment's settings (one per
   * registered party, say): the pattern then only names the handler. None: the handler has no consumer.
   */
  topics?: string[];
}

export interface PinflowKafkaServerOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  partitionsConsumedConcurrently: number;
  /** Per topic, handler options from the deployment's settings (a group id, a concurrency), over those of its `@EventPattern`. */
  handlers?: Record<string, KafkaHandlerOptions>;
  /** Runs before the first consumer starts, e.g. to create or grow topics. */
  prepare?: () => Promise<void>;
  /** The signatures of commands and events (see ConsumerOptions.verifier). */
  verifier?: VerifiesMessages;
}

/** Any JSON value: contracts are checked by each handler's ContractPipe, inside Nest's pipeline. */
const anyJson = z.unknown();

/**
 * A @nestjs/microservices transport over pinflow's own Kafka consumer: every `@EventPattern(topic)`
 * controller method gets a consumer of its topic, and each message (or batch) goes through Nest's
 * guards, interceptors, pipes and exception filters. What the consumer guarantees stays: per-key
 * order, offsets committed only after handling, dead letters with a reason, infrastructure faults
 * waited out, and the message in hand finished on shutdown. Not Nest's ServerKafka, which commits
 * before handling finishes when handlers run concurrently and has no dead letters.
 *
 * A handler returns nothing, or a HandlerVerdict to dead-letter the message after handling it.
 * Errors must reach the transport as thrown: register MessageExceptionFilter for the microservice.
 */
export class PinflowKafkaServer extends Server implements CustomTransportStrategy {
  private readonly consumers = new Map<string, RunningConsumer>();
  /** Each pattern's handler, consumer group and options, for `consumeTopics`. */
  private readonly handled = new Map<string, { handler: MessageHandler; groupId: string; options: KafkaHandlerOptions }>();
  /** Topics a handler was given before the server listened, which it starts on instead of its options'. */
  private readonly topicsBeforeListening = new Map<string, string[]>();
  /** Consumers being replaced, one change after the other. */
  private retopicked: Promise<void> = Promise.resolve();
  private started = false;
  private closed = false;

  constructor(private readonly options: PinflowKafkaServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.options.prepare?.();
      const groups = new Set<string>();
      for (const [topic, handler] of this.messageHandlers) {
        const handlerOptions: KafkaHandlerOptions = { ...(handler.extras as KafkaHandlerOptions | undefined), ...this.options.handlers?.[topic] };
        const topics = this.topicsBeforeListening.get(topic) ?? handlerOptions.topics ?? [topic];
        const groupId = handlerOptions.groupId ?? this.options.groupId;
        this.handled.set(topic, { handler, groupId, options: handlerOptions });
        if (topics.length === 0) continue;
        if (groups.has(groupId)) throw new Error(`two handlers share consumer group ${groupId}: give one of them its own groupId`);
        groups.add(groupId);
        this.consumers.set(topic, await this.consume(topics, handler, groupId, handlerOptions));
      }
      this.started = true;
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** True once every consumer (or the one of `topic`) joined its group and none crashed for good. */
  isHealthy(topic?: string): boolean {
    const consumers = topic === undefined ? [...this.consumers.values()] : [this.consumers.get(topic)];
    return this.started && consumers.every((consumer) => consumer?.isHealthy() ?? false);
  }

  /**
   * Replaces the consumer of the handler named `pattern` by one of `topics` (none: no consumer), in
   * the same group, so that it resumes where the old one committed; for a handler whose topics the
   * deployment's settings list and a reload changed. A restart, since kafkajs subscribes only before a
   * consumer runs (and resolves a RegExp subscription against the topics existing then).
   */
  consumeTopics(pattern: string, topics: string[]): Promise<void> {
    if (!this.started) {
      this.topicsBeforeListening.set(pattern, topics);
      return Promise.resolve();
    }
    const handled = this.handled.get(pattern);
    if (!handled) throw new Error(`no handler of ${pattern}`);
    // A change that failed does not hold back the next.
    this.retopicked = this.retopicked.catch(() => undefined).then(async () => {
      if (this.closed) return;
      const previous = this.consumers.get(pattern);
      this.consumers.delete(pattern);
      await previous?.stop();
      if (topics.length > 0) this.consumers.set(pattern, await this.consume(topics, handled.handler, handled.groupId, { ...handled.options, topics }));
    });
    return this.retopicked;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.retopicked.catch(() => undefined);
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  }

  on(): never {
    throw new Error('the pinflow Kafka transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.options.kafka as T;
  }

  private consume(topics: string[], handler: MessageHandler, groupId: string, handlerOptions: KafkaHandlerOptions): Promise<RunningConsumer> {
    const common = {
      kafka: this.options.kafka,
      groupId,
      topics,
      schema: anyJson,
      logger: this.options.logger,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      keysConsumedConcurrently: handlerOptions.keysConsumedConcurrently,
      maxHandlingAttempts: handlerOptions.maxHandlingAttempts,
      inFlight: handlerOptions.inFlight,
      verifier: this.options.verifier,
    };
    if (handlerOptions.batch) {
      return startConsumer({
        ...common,
        handleBatch: async (messages) => {
          await this.invoke(
            handler,
            messages.map((message) => message.value),
            messages.map((message) => message.meta),
          );
        },
      });
    }
    return startConsumer({ ...common, handle: (value, meta) => this.invoke(handler, value, [meta]) });
  }

  /**
   * Runs the handler through Nest's pipeline; resolves with its verdict, rejects with what it threw.
   * Logs where each handled message came from and how long it took, at debug level: offsets and counts
   * only, since payloads may hold sealed secrets. Here rather than in a global interceptor, which would
   * put every message through an RxJS pipeline even with debug off.
   */
  private async invoke(handler: MessageHandler, payload: unknown, metas: MessageMeta[]): Promise<HandlerVerdict | void> {
    const { logger } = this.options;
    const started = logger.isLevelEnabled('debug') ? performance.now() : undefined;
    try {
      const result = await handler(payload, new KafkaMessageContext([metas]));
      const verdict = (await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined })) as HandlerVerdict | void;
      if (started !== undefined) logger.debug({ ...whereFrom(metas), ms: Math.round(performance.now() - started) }, 'message handled');
      return verdict;
    } catch (error) {
      if (started !== undefined) logger.debug({ ...whereFrom(metas), error: (error as Error)?.name }, 'message handling failed');
      throw error;
    }
  }
}

function whereFrom(metas: MessageMeta[]): { topic: string; partition: number; offsets: string } {
  const [first] = metas;
  const last = metas[metas.length - 1];
  return { topic: first.topic, partition: first.partition, offsets: metas.length === 1 ? first.offset : `${first.offset}..${last.offset}` };
}

/** The module provider of a service's PinflowKafkaServer, on the service's injectable Kafka client and message keys. */
export function kafkaTransportProvider(
  options: Omit<PinflowKafkaServerOptions, 'kafka' | 'prepare' | 'verifier'> & { prepare?: (kafka: Kafka) => Promise<void> },
): FactoryProvider<PinflowKafkaServer> {
  const { prepare, ...rest } = options;
  return {
    provide: PinflowKafkaServer,
    inject: [KafkaClient, MessageTrust],
    useFactory: (kafka: Kafka, trust: MessageTrust) => new PinflowKafkaServer({ ...rest, kafka, verifier: trust.verifying, prepare: prepare && (() => prepare(kafka)) }),
  };
}
