import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createLogger } from '@pinflow/logging';
import { scrapeMetrics } from '@pinflow/metrics';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { inSpan, SpanKind, startTracing } from '@pinflow/tracing';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { z } from 'zod';
import { ConsumerOptions, createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, encodeBatches, ensureTopics, JsonProducer, RunningConsumer, startConsumer } from './index';

const greeting = z.object({ id: z.uuid(), text: z.string() });

describe('Kafka plumbing on a real broker', () => {
  const logger = createLogger('kafka-int-spec', 'silent');
  let kafka: Kafka;
  let producer: JsonProducer;
  let deadLetters: TopicRecorder;
  const consumers: RunningConsumer[] = [];

  /** A topic of its own with one partition, so that its messages keep their order. */
  async function newTopic(name: string): Promise<string> {
    const topic = `it.${name}.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }], 1);
    return topic;
  }

  /** A consumer of the topic in a group of its own, stopped after the suite. */
  async function consume(topic: string, options: Partial<ConsumerOptions<typeof greeting>>): Promise<void> {
    consumers.push(await startConsumer({ kafka, groupId: `it-${randomUUID()}`, topics: [topic], schema: greeting, logger, partitionsConsumedConcurrently: 1, ...options }));
  }

  /** The dead letters the consumer of a topic left, once there are `count` of them. */
  async function lettersFrom(topic: string, count: number) {
    const letters = () => deadLetters.messages.filter((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === topic);
    await waitFor(`${count} dead letter(s) from ${topic}`, async () => letters().length === count, 30_000);
    return letters();
  }

  beforeAll(async () => {
    const { kafkaBrokers } = testEnv();
    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 3, KAFKA_EVENT_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 3 },
      'kafka-int-spec',
      logger,
    );
    producer = new JsonProducer(kafka);
    await producer.connect();
    await ensureTopics(kafka, [{ topic: DEAD_LETTER_TOPIC, partitions: 1 }], 1);
    deadLetters = await new TopicRecorder(kafkaBrokers, [DEAD_LETTER_TOPIC]).start();
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await deadLetters.stop();
    await producer.disconnect();
  });

  it('creates topics with the configured partitions and grows them when the config grows', async () => {
    const topic = `it.topics.${randomUUID()}`;
    await ensureTopics(kafka, [{ topic, partitions: 2 }], 1);
    await ensureTopics(kafka, [{ topic, partitions: 4 }], 1);
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(metadata.topics[0].partitions).toHaveLength(4);
  });

  it('delivers valid messages to the handler, and dead-letters contract-breaking ones with the reason (also telling onInvalid)', async () => {
    const topic = await newTopic('messages');
    const received: unknown[] = [];
    const invalid: string[][] = [];
    await consume(topic, {
      handle: async (value) => {
        received.push(value);
      },
      onInvalid: async (_raw, issues) => {
        invalid.push(issues);
      },
    });
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'k', value: '{"id":"not-a-uuid","text":"secret-ish"}' }, { key: 'k', value: 'not json' }] });
    await raw.disconnect();
    const valid = { id: randomUUID(), text: 'hello' };
    await producer.send(topic, greeting, [{ key: 'k', value: valid }]);

    await waitFor('the valid message', async () => received.length === 1 && invalid.length === 2);
    expect(received).toEqual([valid]);
    expect(invalid).toEqual([['id: invalid_format'], ['value is not JSON']]);
    const letters = await lettersFrom(topic, 2);
    expect(letters.map((letter) => [letter.headers[DEAD_LETTER_HEADERS.reason], letter.headers[DEAD_LETTER_HEADERS.detail]])).toEqual([
      ['CONTRACT_VIOLATION', 'id: invalid_format'],
      ['NOT_JSON', 'value is not JSON'],
    ]);
    // Byte for byte, so it can be replayed once the cause is fixed.
    expect(letters[1].value).toBe('not json');
  });

  it('hands a batch consumer what was published together in one call, in order, skipping contract-breaking messages', async () => {
    const topic = await newTopic('batches');
    const calls: string[][] = [];
    const greetings = Array.from({ length: 50 }, (_, index) => ({ id: randomUUID(), text: `hello ${index}` }));
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic, messages: [{ key: 'k', value: 'not json' }, ...greetings.map((value) => ({ key: 'k', value: JSON.stringify(value) }))] });
    await raw.disconnect();

    await consume(topic, {
      handleBatch: async (messages) => {
        calls.push(messages.map((message) => message.value.text));
      },
    });

    await waitFor('every greeting', async () => calls.flat().length === greetings.length);
    expect(calls.flat()).toEqual(greetings.map((value) => value.text));
    expect(calls.length).toBeLessThan(greetings.length);
    await lettersFrom(topic, 1);
  });

  it('handles a failing batch one message at a time, so only the message that fails alone is dead-lettered', async () => {
    const topic = await newTopic('poisoned-batch');
    const poison = { id: randomUUID(), text: 'poison' };
    const healthy = [{ id: randomUUID(), text: 'before' }, { id: randomUUID(), text: 'after' }];
    const stored: string[] = [];
    await producer.send(topic, greeting, [healthy[0], poison, healthy[1]].map((value) => ({ key: 'k', value })));

    await consume(topic, {
      maxHandlingAttempts: 2,
      handleBatch: async (messages) => {
        if (messages.some((message) => message.value.id === poison.id)) throw new RangeError('this message can never be handled');
        stored.push(...messages.map((message) => message.value.text));
      },
    });

    const [letter] = await lettersFrom(topic, 1);
    expect(JSON.parse(letter.value)).toEqual(poison);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'HANDLER_FAILED', [DEAD_LETTER_HEADERS.detail]: 'RangeError' });
    await waitFor('both healthy messages', async () => stored.length === 2);
    expect(stored).toEqual(['before', 'after']);
  });

  it('dead-letters a message whose handler keeps failing, and goes on with the next one', async () => {
    const topic = await newTopic('poison');
    const poison = { id: randomUUID(), text: 'poison' };
    const healthy = { id: randomUUID(), text: 'fine' };
    const handled: string[] = [];
    let poisonAttempts = 0;
    await consume(topic, {
      maxHandlingAttempts: 3,
      handle: async (value) => {
        if (value.id === poison.id) {
          poisonAttempts += 1;
          throw new RangeError('this message can never be handled');
        }
        handled.push(value.id);
      },
    });
    await producer.send(topic, greeting, [{ key: 'k', value: poison }, { key: 'k', value: healthy }]);

    await waitFor('the message after the poison one', async () => handled.includes(healthy.id), 30_000);
    expect(poisonAttempts).toBe(3);
    const [letter] = await lettersFrom(topic, 1);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'HANDLER_FAILED', [DEAD_LETTER_HEADERS.detail]: 'RangeError', [DEAD_LETTER_HEADERS.attempts]: '3' });
    expect(JSON.parse(letter.value)).toEqual(poison);
  });

  it('dead-letters a message its handler dealt with but asks to park, with the handler’s reason, and calls the handler once', async () => {
    const topic = await newTopic('verdict');
    const exhausted = { id: randomUUID(), text: 'gave up' };
    const calls: string[] = [];
    await consume(topic, {
      handle: async (value) => {
        calls.push(value.id);
        return { deadLetter: { reason: 'RETRIES_EXHAUSTED', detail: 'VENDOR_UNAVAILABLE, vendor status 503', attempts: 4 } };
      },
    });
    await producer.send(topic, greeting, [{ key: 'k', value: exhausted }]);

    const [letter] = await lettersFrom(topic, 1);
    expect(letter.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED',
      [DEAD_LETTER_HEADERS.detail]: 'VENDOR_UNAVAILABLE, vendor status 503',
      [DEAD_LETTER_HEADERS.attempts]: '4',
    });
    expect(JSON.parse(letter.value)).toEqual(exhausted);
    expect(calls).toEqual([exhausted.id]);
  });

  describe('with several keys consumed concurrently', () => {
    /** Sends the messages in one request, so that they land in one batch of the topic's only partition. */
    async function sendTogether(topic: string, messages: { key: string; text: string }[]): Promise<void> {
      await producer.send(topic, greeting, messages.map(({ key, text }) => ({ key, value: { id: randomUUID(), text } })));
    }

    const consumeTexts = (topic: string, handle: (text: string) => Promise<void>) => consume(topic, { keysConsumedConcurrently: 4, handle: (value) => handle(value.text) });

    it('lets other keys of the partition through while one key’s message takes long, and keeps each key’s messages in order', async () => {
      const topic = await newTopic('keys');
      let releaseA1!: () => void;
      const a1Held = new Promise<void>((resolve) => (releaseA1 = resolve));
      const handled: string[] = [];
      await consumeTexts(topic, async (text) => {
        if (text === 'a1') await a1Held;
        handled.push(text);
      });

      await sendTogether(topic, [
        { key: 'a', text: 'a1' },
        { key: 'b', text: 'b1' },
        { key: 'a', text: 'a2' },
        { key: 'b', text: 'b2' },
        { key: 'c', text: 'c1' },
      ]);
      await waitFor('b and c', async () => handled.length === 3);
      expect([...handled].sort()).toEqual(['b1', 'b2', 'c1']);
      expect(handled.indexOf('b1')).toBeLessThan(handled.indexOf('b2'));

      releaseA1();
      await waitFor('a', async () => handled.length === 5);
      expect(handled.slice(3)).toEqual(['a1', 'a2']);
    });

    it('after a fault, delivers again everything from the first unfinished message on, and nothing before it', async () => {
      const topic = await newTopic('fault');
      let b1Done!: () => void;
      const b1Handled = new Promise<void>((resolve) => (b1Done = resolve));
      const handled: string[] = [];
      let faults = 0;
      await consumeTexts(topic, async (text) => {
        if (text === 'a1' && faults === 0) {
          await b1Handled;
          faults += 1;
          // The database away: a fault the consumer waits out rather than dead-lettering.
          throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        }
        handled.push(text);
        if (text === 'b1') b1Done();
      });

      await sendTogether(topic, [
        { key: 'b', text: 'b0' },
        { key: 'a', text: 'a1' },
        { key: 'b', text: 'b1' },
      ]);

      await waitFor('a1 after the fault', async () => handled.includes('a1'), 30_000);
      await waitFor('b1 delivered again', async () => handled.filter((text) => text === 'b1').length === 2);
      expect(handled.slice(0, 2)).toEqual(['b0', 'b1']);
      expect(handled.slice(2).sort()).toEqual(['a1', 'b1']);
    });
  });

  describe('committing what was handled', () => {
    /** The group's committed offset of the topic's only partition, as the broker has it. */
    async function committedOffset(groupId: string, topic: string): Promise<string> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return partitions[0].offset;
      } finally {
        await admin.disconnect();
      }
    }

    it('commits handled messages soon after, without waiting for more to arrive, and never one still in hand', async () => {
      const topic = await newTopic('commit-idle');
      const groupId = `it-${randomUUID()}`;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const handled: string[] = [];
      const consumer = await startConsumer({
        kafka,
        groupId,
        topics: [topic],
        schema: greeting,
        logger,
        partitionsConsumedConcurrently: 1,
        handle: async (value) => {
          handled.push(value.text);
          if (value.text === 'third') await held;
        },
      });
      consumers.push(consumer);
      await producer.send(topic, greeting, ['first', 'second', 'third'].map((text) => ({ key: 'k', value: { id: randomUUID(), text } })));

      await waitFor('the first two committed', async () => (await committedOffset(groupId, topic)) === '2', 30_000);
      expect(handled).toEqual(['first', 'second', 'third']);
      release();
      await waitFor('the third committed once handled', async () => (await committedOffset(groupId, topic)) === '3', 30_000);
    });

    it('commits on stop what it handled, so the next member of its group starts after it', async () => {
      const topic = await newTopic('commit-stop');
      const groupId = `it-${randomUUID()}`;
      const first: string[] = [];
      const firstConsumer = await startConsumer({ kafka, groupId, topics: [topic], schema: greeting, logger, partitionsConsumedConcurrently: 1, handle: async (value) => void first.push(value.text) });
      await producer.send(topic, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'before the stop' } }]);
      await waitFor('the message handled', async () => first.length === 1, 30_000);
      await firstConsumer.stop();

      const second: string[] = [];
      await consume(topic, { groupId, handle: async (value) => void second.push(value.text) });
      await producer.send(topic, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'after the stop' } }]);
      await waitFor('the next message handled', async () => second.length > 0, 30_000);
      expect(second).toEqual(['after the stop']);
    });
  });

  it('reports its lag per partition on /metrics: what the fetch still holds while it works, none once it caught up', async () => {
    const topic = await newTopic('lag');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    await consume(topic, {
      handle: async () => {
        started = true;
        await held;
      },
    });
    const lagOf = async () => new RegExp(`^pinflow_kafka_consumer_lag\\{group="[^"]+",topic="${topic.replace(/\./g, '\\.')}",partition="0"\\} (\\d+)$`, 'm').exec(await scrapeMetrics())?.[1];

    // One produce request: one record batch, fetched whole.
    await producer.send(topic, greeting, ['a', 'b', 'c', 'd', 'e'].map((text) => ({ key: text, value: { id: randomUUID(), text } })));
    await waitFor('the first message in hand', async () => started);

    expect(await lagOf()).toBe('5');
    release();
    await waitFor('no lag left', async () => (await lagOf()) === '0');
  });

  it('refuses to publish a message that breaks its schema', async () => {
    await expect(producer.send('it.never', greeting, [{ key: 'k', value: { id: 'x', text: 'y' } }])).rejects.toThrow();
  });

  /**
   * One trace per change across Kafka, as pinflow's services pass it on: intake encodes its messages
   * for the outbox inside the request's span, the relay publishes them later outside it, a worker's
   * consumer continues the trace and publishes its outcome, which a batch consumer (audit's kind)
   * links to. Last in the suite: tracing, once started, stays on in the process.
   */
  describe('with tracing on', () => {
    const exporter = new InMemorySpanExporter();

    beforeAll(async () => {
      await startTracing('kafka-int-spec', { spanProcessors: [new SimpleSpanProcessor(exporter)] });
    });

    it('links the request, the outbox publication, the worker, its vendor call and the outcome’s consumer in one trace', async () => {
      const commands = await newTopic('commands');
      const events = await newTopic('events');
      const recorded: string[] = [];
      await consume(commands, {
        handle: async (command) => {
          await inSpan('vendor call', { kind: SpanKind.CLIENT }, async () => undefined);
          await producer.send(events, greeting, [{ key: 'card', value: { ...command, text: 'outcome' } }]);
        },
      });
      await consume(events, { handleBatch: async (messages) => void recorded.push(...messages.map((message) => message.value.id)) });
      const commandId = randomUUID();

      const outbox = await inSpan('POST /v1/pismo/cards/:cardId/pin', { kind: SpanKind.SERVER }, async () =>
        encodeBatches([{ topic: commands, schema: greeting, messages: [{ key: 'card', value: { id: commandId, text: 'command' } }] }]),
      );
      await producer.sendEncoded(outbox);
      await waitFor('the outcome recorded', async () => recorded.includes(commandId), 30_000);

      await waitFor('the spans ended', async () => exporter.getFinishedSpans().length >= 4);
      const named = (name: string) => exporter.getFinishedSpans().find((span) => span.name === name)!;
      const request = named('POST /v1/pismo/cards/:cardId/pin');
      const worker = named(`${commands} process`);
      const vendorCall = named('vendor call');
      const recorder = named(`${events} process`);
      const traceId = request.spanContext().traceId;
      expect(outbox[0].headers.traceparent).toBe(`00-${traceId}-${request.spanContext().spanId}-01`);
      expect(worker.spanContext().traceId).toBe(traceId);
      expect(worker.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(worker.kind).toBe(SpanKind.CONSUMER);
      expect(worker.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': commands });
      expect(vendorCall.spanContext().traceId).toBe(traceId);
      expect(vendorCall.parentSpanContext?.spanId).toBe(worker.spanContext().spanId);
      expect(recorder.links.map((link) => link.context)).toEqual([expect.objectContaining({ traceId, spanId: worker.spanContext().spanId })]);
    });
  });
});
