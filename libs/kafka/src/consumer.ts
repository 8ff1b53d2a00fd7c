import type { Logger } from '@pinflow/logging';
import { gauge } from '@pinflow/metrics';
import { inSpan, SpanKind } from '@pinflow/tracing';
import type { Batch, Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { z } from 'zod';
import { DeadLetterReason, DeadLetters, describeError, isInfrastructureFault } from './dead-letters';
import type { InFlightLimit } from './in-flight-limit';
import { MESSAGE_SIGNATURE_HEADER, rightfulSigner, signersOf, VerifiesMessages } from './message-signing';

export interface MessageMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** The value's bytes as they arrived, for what is computed over them (a signature). */
  rawValue: Buffer | null;
  /** The service that signed the message, on a topic pinflow signs (see message-signing). */
  signer?: string;
  /** Tells the group coordinator this consumer is alive; call it during long handling (vendor retries). */
  heartbeat: () => Promise<void>;
}

export interface ConsumerOptions<S extends z.ZodType> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  schema: S;
  logger: Logger;
  partitionsConsumedConcurrently: number;
  /**
   * Throwing retries the message in place (a few times, with backoff); if it keeps failing it is
   * dead-lettered, unless the fault is the infrastructure's (database or broker away): then the
   * consumer waits it out, since every message would fail alike. A handler that dealt with a message
   * but wants an operator to see it (and maybe replay it) returns a dead-letter verdict.
   */
  handle?: (value: z.output<S>, meta: MessageMeta) => Promise<void | HandlerVerdict>;
  /**
   * Instead of `handle`: the valid messages of a partition's fetch, in offset order, handled together
   * (one multi-row statement rather than one round trip each). Failures are treated like `handle`'s:
   * an infrastructure fault is waited out; otherwise the batch is retried, and if it keeps failing
   * its messages are handled one at a time, so only the one that fails alone is dead-lettered.
   */
  handleBatch?: (messages: ConsumedMessage<z.output<S>>[]) => Promise<void>;
  /** Besides dead-lettering: what to do about a message that is not JSON or breaks the contract (e.g. tell its requester). */
  onInvalid?: (raw: unknown, issues: string[], meta: MessageMeta) => Promise<void>;
  /** Attempts at a message whose handler keeps failing before it is dead-lettered (default 5). */
  maxHandlingAttempts?: number;
  /**
   * How many keys of a partition's fetched batch are worked on at once (default 1: one message at a
   * time, in offset order). Messages with the same key are always handled one after the other, in
   * offset order, so a key whose message takes long (a vendor being retried) holds back its own later
   * messages only. Offsets are resolved up to the first unfinished message: what a stop, a rebalance
   * or a fault interrupts is delivered again, whatever finished after it included.
   */
  keysConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /**
   * Places shared by all the partitions' lanes (default: none beyond keysConsumedConcurrently): a
   * message waits for one before it starts, and starts only if the consumer still owns its partition
   * then, so a message that waited across a rebalance is left to the partition's new owner.
   */
  inFlight?: InFlightLimit;
  /**
   * Required for a topic pinflow signs (commands, events): a message not signed for the topic by its
   * rightful signer is dead-lettered as UNTRUSTED before it is parsed, let alone handled.
   */
  verifier?: VerifiesMessages;
}

/**
 * Thrown by a handler (e.g. a contract pipe) for a message that breaks its contract: it is
 * dead-lettered at once as CONTRACT_VIOLATION (retrying cannot help) and `onInvalid` is told.
 * `issues` are field paths and codes only, never values, which could be secrets.
 */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';

  constructor(
    readonly raw: unknown,
    readonly issues: string[],
  ) {
    super(`the message breaks its contract: ${issues.join('; ')}`);
  }
}

/** zod issues as a dead letter may show them: paths and codes, never the offending value. */
export function contractIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
}

/** A message that passed its contract, with where it came from. */
export interface ConsumedMessage<T> {
  value: T;
  meta: MessageMeta;
}

/** What a handler may ask for besides the commit: that the message, handled, be dead-lettered too. */
export interface HandlerVerdict {
  deadLetter: { reason: DeadLetterReason; detail: string; attempts: number };
  /** Called once the dead letter is on its topic, before the offset is committed: a redelivery can then tell. */
  parked?: () => Promise<void>;
}

export interface RunningConsumer {
  /** False after the consumer crashed for good or before it joined its group. */
  isHealthy(): boolean;
  stop(): Promise<void>;
}

const consumerLag = gauge({
  name: 'pinflow_kafka_consumer_lag',
  help: 'Messages of a partition this consumer has not handled yet (high watermark minus the next offset), by group, topic and partition',
  labelNames: ['group', 'topic', 'partition'],
});

/**
 * The lag gauge of one consumer's partitions, set as each fetched batch starts (the batch still to
 * do) and ends (what arrived meanwhile is the next fetch's), and cleared when the group rebalances,
 * so a partition that moved to another pod is not reported twice.
 */
class PartitionLag {
  private readonly reported = new Map<string, { group: string; topic: string; partition: number }>();

  constructor(private readonly group: string) {}

  started(batch: Batch): void {
    this.set(batch, Number(batch.highWatermark) - Number(batch.firstOffset()));
  }

  finished(batch: Batch): void {
    this.set(batch, Number(batch.offsetLag()));
  }

  /** Forgets every partition: after a rebalance, or once the consumer stopped. */
  clear(): void {
    for (const labels of this.reported.values()) consumerLag.remove(labels);
    this.reported.clear();
  }

  private set({ topic, partition }: Batch, lag: number): void {
    const labels = { group: this.group, topic, partition };
    this.reported.set(`${topic}:${partition}`, labels);
    consumerLag.set(labels, lag);
  }
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) decoded[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return decoded;
}

/**
 * Runs a validating consumer. Offsets are committed only after `handle` resolves, so delivery is
 * at-least-once; handlers must be idempotent.
 */
export async function startConsumer<S extends z.ZodType>(options: ConsumerOptions<S>): Promise<RunningConsumer> {
  const { logger, schema } = options;
  if (!options.handle === !options.handleBatch) throw new Error('a consumer needs exactly one of handle and handleBatch');
  const unverified = options.topics.filter((topic) => signersOf(topic) && !options.verifier);
  if (unverified.length > 0) throw new Error(`consuming ${unverified.join(', ')} needs a verifier of their signatures (MESSAGE_SIGNERS_FILE)`);
  const consumer: Consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: FETCH_MAX_WAIT_MS });
  let joined = false;
  let crashed = false;
  const lag = new PartitionLag(options.groupId);
  const commits = new OffsetCommits(consumer, COMMIT_INTERVAL_MS, logger);
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    crashed = false;
    lag.clear();
    // Partitions may have moved: an offset finished before the join is no longer this member's to commit.
    commits.forget();
  });
  // Best effort: what is committed before the partitions move is not redelivered to their next owner.
  consumer.on(consumer.events.REBALANCING, () => void commits.flush());
  consumer.on(consumer.events.CRASH, (event) => {
    crashed = !event.payload.restart;
    // A crash kafkajs restarts from (a coordinator still loading, a rebalance) is weather, not an error.
    const level = event.payload.restart ? 'warn' : 'error';
    logger[level]({ err: event.payload.error, willRestart: event.payload.restart }, 'consumer crashed');
  });

  const maxAttempts = options.maxHandlingAttempts ?? 5;
  // Unprocessable messages go to the dead-letter topic instead of stalling their partition.
  const deadLetters = new DeadLetters(options.kafka);
  deadLetters.countFrom(options.topics);
  const park = async (message: KafkaMessage, meta: MessageMeta, reason: DeadLetterReason, detail: string, attempts: number) => {
    logger.warn({ topic: meta.topic, partition: meta.partition, offset: meta.offset, reason, detail }, 'dead-lettering a message');
    await deadLetters.park(message, {
      reason,
      detail,
      attempts,
      source: { topic: meta.topic, partition: meta.partition, offset: meta.offset, group: options.groupId },
    });
  };
  const rejectInvalid = async (message: KafkaMessage, meta: MessageMeta, raw: unknown, reason: DeadLetterReason, issues: string[]) => {
    await park(message, meta, reason, issues.join('; '), 0);
    await options.onInvalid?.(raw, issues, meta);
  };

  /** The message as its contract parses it, or undefined once it was dead-lettered for breaking it. */
  const decode = async (topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<ConsumedMessage<z.output<S>> | undefined> => {
    const meta: MessageMeta = {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString() ?? null,
      headers: decodeHeaders(message.headers),
      rawValue: message.value,
      heartbeat,
    };
    const origin = signersOf(topic) && options.verifier!.verify(topic, message.value, meta.headers[MESSAGE_SIGNATURE_HEADER]);
    if (origin && 'untrusted' in origin) {
      await park(message, meta, 'UNTRUSTED', origin.untrusted, 0);
      return undefined;
    }
    meta.signer = origin ? origin.signer : undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(message.value?.toString() ?? '');
    } catch {
      await rejectInvalid(message, meta, undefined, 'NOT_JSON', ['value is not JSON']);
      return undefined;
    }
    if (origin && rightfulSigner(topic, raw) !== origin.signer) {
      await park(message, meta, 'UNTRUSTED', `${origin.signer} may not publish this message`, 0);
      return undefined;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      await rejectInvalid(message, meta, raw, 'CONTRACT_VIOLATION', contractIssues(parsed.error));
      return undefined;
    }
    return { value: parsed.data, meta };
  };

  /**
   * Runs `work` until it succeeds, retrying in place with backoff; the last failure is returned (not
   * thrown) after `maxAttempts`. An infrastructure fault is thrown at once: waiting it out blocks this
   * partition, which is right, since every message would fail alike.
   */
  const attempt = async <T>(work: () => Promise<T>, where: MessageMeta): Promise<{ done: T } | { failure: unknown; attempts: number }> => {
    for (let attempts = 1; ; attempts += 1) {
      try {
        return { done: await work() };
      } catch (error) {
        if (isInfrastructureFault(error)) throw error;
        if (attempts >= maxAttempts || error instanceof ContractViolation) return { failure: error, attempts };
        logger.warn({ topic: where.topic, partition: where.partition, offset: where.offset, attempt: attempts, error: describeError(error) }, 'handling failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempts));
        await where.heartbeat();
      }
    }
  };

  const handleMessage = async (topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<void> => {
    const consumed = await decode(topic, partition, message, heartbeat);
    if (!consumed) return;
    const { value, meta } = consumed;
    const handle = options.handle ?? (async (one: z.output<S>, where: MessageMeta) => options.handleBatch!([{ value: one, meta: where }]));
    const result = await inSpan(`${topic} process`, { kind: SpanKind.CONSUMER, parent: meta.headers, attributes: spanAttributes(topic, partition, 1) }, () =>
      attempt(() => handle(value, meta), meta),
    );
    if ('failure' in result) {
      const { failure } = result;
      if (failure instanceof ContractViolation) return rejectInvalid(message, meta, failure.raw, 'CONTRACT_VIOLATION', failure.issues);
      return park(message, meta, 'HANDLER_FAILED', describeError(failure), result.attempts);
    }
    const verdict = result.done;
    if (verdict) {
      await park(message, meta, verdict.deadLetter.reason, verdict.deadLetter.detail, verdict.deadLetter.attempts);
      await verdict.parked?.();
    }
  };

  /** A fetched batch through `handleBatch`: together while that works, one at a time once it keeps failing. */
  const handleFetched = async (topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>): Promise<void> => {
    const consumed: ConsumedMessage<z.output<S>>[] = [];
    for (const message of messages) {
      const valid = await decode(topic, partition, message, heartbeat);
      if (valid) consumed.push(valid);
    }
    if (consumed.length === 0) return;
    // Messages of many traces handled together: the span links to each.
    const links = consumed.map(({ meta }) => meta.headers);
    const result = await inSpan(`${topic} process`, { kind: SpanKind.CONSUMER, links, attributes: spanAttributes(topic, partition, consumed.length) }, () =>
      attempt(() => options.handleBatch!(consumed), consumed[0].meta),
    );
    if (!('failure' in result)) return;
    logger.warn({ topic, partition, messages: consumed.length, error: describeError(result.failure) }, 'a batch keeps failing; handling its messages one at a time');
    const byOffset = new Map(messages.map((message) => [message.offset, message]));
    for (const { meta } of consumed) await handleMessage(topic, partition, byOffset.get(meta.offset)!, heartbeat);
  };

  const spanAttributes = (topic: string, partition: number, messages: number) => ({
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    'messaging.destination.partition.id': String(partition),
    'messaging.consumer.group.name': options.groupId,
    'messaging.batch.message_count': messages,
  });

  const keyConcurrency = options.keysConsumedConcurrently ?? 1;
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    // Committed by OffsetCommits, not by kafkajs after every partition's batch.
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset: resolveFetched, heartbeat, isRunning, isStale }) => {
      if (batch.isEmpty() || !isRunning() || isStale()) return;
      const resolveOffset = (offset: string) => {
        resolveFetched(offset);
        commits.finished(batch.topic, batch.partition, offset);
      };
      lag.started(batch);
      if (options.handleBatch) {
        await handleFetched(batch.topic, batch.partition, batch.messages, heartbeat);
        resolveOffset(batch.lastOffset());
        lag.finished(batch);
        await heartbeat();
        // The consumer is stopping: kafkajs leaves the group once this batch returns, so commit now.
        if (!isRunning()) await commits.flush();
        return;
      }
      const progress = new OffsetProgress(batch.messages.map((message) => message.offset), resolveOffset);
      await workOnLanes(
        keyConcurrency > 1 ? lanesByKey(batch.messages) : [batch.messages],
        keyConcurrency,
        // A stopping consumer finishes the messages in hand and starts no other.
        () => isRunning() && !isStale(),
        options.inFlight,
        async (message) => {
          await handleMessage(batch.topic, batch.partition, message, heartbeat);
          progress.finish(message.offset);
          await heartbeat();
        },
      );
      if (progress.isComplete()) lag.finished(batch);
      if (!isRunning()) await commits.flush();
    },
  });

  return {
    isHealthy: () => joined && !crashed,
    stop: async () => {
      commits.stop();
      await commits.flush();
      await consumer.disconnect();
      lag.clear();
      await deadLetters.close();
    },
  };
}

/**
 * How long a handled message's offset may wait for its commit. Committing after every partition's
 * fetched batch (kafkajs' autoCommit) made offset commits most of the broker's requests; one commit
 * per interval carries every partition's progress. Only handled messages are ever committed, so
 * delivery stays at-least-once: a crash redelivers up to an interval's worth, which handlers
 * absorb as they absorb any redelivery.
 */
const COMMIT_INTERVAL_MS = 200;

/**
 * A fetch is answered as soon as a message is there (kafkajs' default), or empty after
 * FETCH_MAX_WAIT_MS. Under load a fetch still carries everything that arrived while the previous
 * batch was handled. Making the broker hold a fetch for 64 KiB or 20 ms instead (tried) woke every
 * idle consumer 50 times a second, added up to 20 ms to each hop and, measured side by side, cost
 * CPU at low rates while saving none at half or full load (README, "Figures").
 * The wait bounds how long a stopping or rebalancing consumer waits for its fetch in flight.
 */
const FETCH_MAX_WAIT_MS = 500;

/** The offsets handled since the last commit, committed together a moment later (and at once on stop). */
class OffsetCommits {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** `offset` and every offset before it in its partition are handled. */
  finished(topic: string, partition: number, offset: string): void {
    // Kafka's committed offset is the next one to read.
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    this.schedule();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const offsets = [...this.pending.values()];
    this.pending.clear();
    try {
      await this.consumer.commitOffsets(offsets);
      this.failing = false;
    } catch (error) {
      // Kept for the next try unless a newer offset of the partition came meanwhile; should the
      // partitions move first, their new owner redelivers what was not committed.
      for (const offset of offsets) {
        const key = `${offset.topic}:${offset.partition}`;
        if (!this.pending.has(key)) this.pending.set(key, offset);
      }
      // Once per run of failures (a broker outage retries every interval).
      this.logger[this.failing ? 'debug' : 'warn']({ error: describeError(error), partitions: offsets.length }, 'committing offsets failed; will try again');
      this.failing = true;
      this.schedule();
    }
  }

  forget(): void {
    this.pending.clear();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }
}

/** A batch's messages by key, in offset order within each key; keys in the order they first appear. */
function lanesByKey(messages: KafkaMessage[]): KafkaMessage[][] {
  const lanes = new Map<string | undefined, KafkaMessage[]>();
  for (const message of messages) {
    const key = message.key?.toString();
    const lane = lanes.get(key);
    if (lane) lane.push(message);
    else lanes.set(key, [message]);
  }
  return [...lanes.values()];
}

/**
 * Works on up to `concurrency` lanes at once, each lane's messages one after the other. After a
 * failure no lane starts another message: the ones in hand finish (a vendor call is never abandoned
 * midway), then the first failure is thrown.
 */
async function workOnLanes(
  lanes: KafkaMessage[][],
  concurrency: number,
  active: () => boolean,
  inFlight: InFlightLimit | undefined,
  handle: (message: KafkaMessage) => Promise<void>,
): Promise<void> {
  const waiting = [...lanes];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
      for (const message of lane) {
        if (failure || !active()) return;
        const release = await inFlight?.acquire();
        try {
          // Checked again: waiting for a place may have outlasted this consumer's hold on the partition.
          if (failure || !active()) return;
          await handle(message);
        } catch (error) {
          failure ??= { error };
          return;
        } finally {
          release?.();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, lanes.length) }, worker));
  if (failure) throw failure.error;
}

/** Resolves a batch's offsets in order, up to the first message not finished yet. */
class OffsetProgress {
  private readonly finished = new Set<string>();
  private next = 0;

  constructor(
    private readonly offsets: string[],
    private readonly resolve: (offset: string) => void,
  ) {}

  isComplete(): boolean {
    return this.next === this.offsets.length;
  }

  finish(offset: string): void {
    this.finished.add(offset);
    let last: string | undefined;
    while (this.next < this.offsets.length && this.finished.has(this.offsets[this.next])) {
      last = this.offsets[this.next];
      this.next += 1;
    }
    if (last !== undefined) this.resolve(last);
  }
}
