import { CallHandler, Controller, ExecutionContext, INestApplication, Injectable, Module, NestInterceptor, OnApplicationBootstrap, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { createLogger } from '@pinflow/logging';
import { testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { lastValueFrom, Observable } from 'rxjs';
import { buildEvent, EVENT_TYPES, EVENTS_TOPIC } from '@pinflow/contracts';
import { z } from 'zod';
import { createKafka, DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, ensureTopics, HandlerVerdict, JsonProducer } from '../index';
import { ContractPipe, connectKafkaTransport, KafkaHandlerOptions, KafkaMessageContext, PinflowKafkaClient, PinflowKafkaServer } from './index';

const greeting = z.object({ id: z.uuid(), text: z.string() });
type Greeting = z.output<typeof greeting>;

const GREETINGS = `it.nest.greetings.${randomUUID()}`;
const FAREWELLS = `it.nest.farewells.${randomUUID()}`;
/** Names a handler whose topics (one per party) only the deployment's settings list; and one that lists none. */
const PARTIES = 'it.nest.parties.*';
const PARTY_TOPICS = ['a', 'b'].map((party) => `it.nest.parties.${party}.${randomUUID()}`);
const NOBODY = `it.nest.nobody.${randomUUID()}`;

/** What the handlers below saw, for the test to read. */
const seen = { batches: [] as string[][], intercepted: [] as string[], farewells: [] as string[], partitions: [] as number[], parties: [] as string[], nobody: 0, bootstraps: 0 };

/** Stands for a service's own background work started at bootstrap (intake's outbox relay, a worker's sweep). */
@Injectable()
class BackgroundWork implements OnApplicationBootstrap {
  onApplicationBootstrap(): void {
    seen.bootstraps += 1;
  }
}

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.intercepted.push(context.switchToRpc().getContext<KafkaMessageContext>().getTopic());
    return next.handle();
  }
}

@Controller()
@UseInterceptors(RecordingInterceptor)
class GreetingsController {
  @EventPattern(GREETINGS, { batch: true } satisfies KafkaHandlerOptions)
  async greet(@Payload(new ContractPipe(greeting, { each: true })) greetings: Greeting[], @Ctx() context: KafkaMessageContext): Promise<void> {
    seen.batches.push(greetings.map((value) => value.text));
    seen.partitions.push(context.getPartition());
  }

  @EventPattern(FAREWELLS, { groupId: `it-nest-farewells-${randomUUID()}` } satisfies KafkaHandlerOptions)
  async farewell(@Payload(new ContractPipe(greeting)) value: Greeting): Promise<HandlerVerdict | void> {
    seen.farewells.push(value.text);
    if (value.text === 'park me') return { deadLetter: { reason: 'RETRIES_EXHAUSTED', detail: 'asked to', attempts: 1 } };
  }

  @EventPattern(PARTIES)
  async party(@Payload(new ContractPipe(greeting)) value: Greeting, @Ctx() context: KafkaMessageContext): Promise<void> {
    seen.parties.push(`${context.getTopic()} ${value.text}`);
  }

  @EventPattern(NOBODY)
  async nobody(): Promise<void> {
    seen.nobody += 1;
  }
}

describe('PinflowKafkaServer: @EventPattern handlers on the pinflow Kafka consumer', () => {
  const logger = createLogger('nest-transport-int-spec', 'silent');
  let kafka: Kafka;
  let producer: JsonProducer;
  let recorder: TopicRecorder;
  let app: INestApplication;

  beforeAll(async () => {
    const { kafkaBrokers } = testEnv();
    kafka = createKafka(
      { KAFKA_BROKERS: kafkaBrokers.split(','), KAFKA_COMMAND_PARTITIONS: 1, KAFKA_EVENT_PARTITIONS: 1, KAFKA_REPLICATION_FACTOR: 1, KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 1 },
      'nest-transport-int-spec',
      logger,
    );
    await ensureTopics(kafka, [GREETINGS, FAREWELLS, ...PARTY_TOPICS, NOBODY, DEAD_LETTER_TOPIC, EVENTS_TOPIC].map((topic) => ({ topic, partitions: 1 })), 1);
    producer = new JsonProducer(kafka);
    await producer.connect();
    recorder = await new TopicRecorder(kafkaBrokers, [DEAD_LETTER_TOPIC, EVENTS_TOPIC]).start();

    @Module({
      controllers: [GreetingsController],
      providers: [
        RecordingInterceptor,
        BackgroundWork,
        {
          provide: PinflowKafkaServer,
          useValue: new PinflowKafkaServer({
            kafka,
            logger,
            groupId: `it-nest-${randomUUID()}`,
            partitionsConsumedConcurrently: 1,
            handlers: { [PARTIES]: { topics: PARTY_TOPICS, groupId: `it-nest-parties-${randomUUID()}` }, [NOBODY]: { topics: [] } },
          }),
        },
      ],
    })
    class TestModule {}
    app = await NestFactory.create(TestModule, new FastifyAdapter(), { logger: false });
    await app.init();
    await connectKafkaTransport(app);
  });

  afterAll(async () => {
    await app.close();
    await recorder.stop();
    await producer.disconnect();
  });

  const lettersFrom = (topic: string, count: number) =>
    waitFor(`${count} dead letter(s) from ${topic}`, async () => {
      const letters = recorder.messages.filter((letter) => letter.headers[DEAD_LETTER_HEADERS.topic] === topic);
      return letters.length === count ? letters : undefined;
    });

  it('hands a batch handler its messages through interceptors and the contract pipe, and dead-letters the one that breaks the contract', async () => {
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: GREETINGS,
      messages: [
        { key: 'k', value: JSON.stringify({ id: randomUUID(), text: 'one' }) },
        { key: 'k', value: JSON.stringify({ id: 'not-a-uuid', text: 'broken' }) },
        { key: 'k', value: JSON.stringify({ id: randomUUID(), text: 'two' }) },
      ],
    });
    await raw.disconnect();

    const [letter] = await lettersFrom(GREETINGS, 1);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'CONTRACT_VIOLATION', [DEAD_LETTER_HEADERS.detail]: 'id: invalid_format' });
    await waitFor('both valid greetings', async () => seen.batches.flat().length === 2);
    expect(seen.batches.flat()).toEqual(['one', 'two']);
    expect(seen.intercepted).toContain(GREETINGS);
    expect(seen.partitions.every((partition) => partition === 0)).toBe(true);
  });

  it("leaves the app's bootstrap work started once: connecting the transport does not run the hooks again", () => {
    expect(seen.bootstraps).toBe(1);
  });

  it('gives each handler its own consumer, and dead-letters a message its handler asks to park, after handling it once', async () => {
    await producer.send(FAREWELLS, greeting, [
      { key: 'k', value: { id: randomUUID(), text: 'park me' } },
      { key: 'k', value: { id: randomUUID(), text: 'bye' } },
    ]);

    const [letter] = await lettersFrom(FAREWELLS, 1);
    expect(letter.headers).toMatchObject({ [DEAD_LETTER_HEADERS.reason]: 'RETRIES_EXHAUSTED', [DEAD_LETTER_HEADERS.detail]: 'asked to' });
    await waitFor('the farewell after the parked one', async () => seen.farewells.includes('bye'));
    expect(seen.farewells).toEqual(['park me', 'bye']);
    expect(app.get(PinflowKafkaServer).isHealthy()).toBe(true);
  });

  it("consumes for a handler the topics the deployment's settings list, and nothing for one they list none for", async () => {
    const [a, b] = PARTY_TOPICS;
    await producer.send(a, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'from a' } }]);
    await producer.send(b, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'from b' } }]);
    await producer.send(NOBODY, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'unheard' } }]);

    await waitFor("both parties' messages", async () => seen.parties.length === 2);
    expect(seen.parties.sort()).toEqual([`${a} from a`, `${b} from b`]);
    expect(seen.nobody).toBe(0);
    expect(app.get(PinflowKafkaServer).isHealthy()).toBe(true);
  });

  it('moves a handler to the topics it is given while running: a topic dropped is no longer read, one added back is read from where the group left off', async () => {
    const server = app.get(PinflowKafkaServer);
    const [a, b] = PARTY_TOPICS;
    await server.consumeTopics(PARTIES, [b]);

    await producer.send(a, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'while dropped' } }]);
    await producer.send(b, greeting, [{ key: 'k', value: { id: randomUUID(), text: 'still read' } }]);
    await waitFor('the message on the topic kept', async () => seen.parties.includes(`${b} still read`));
    expect(seen.parties).not.toContain(`${a} while dropped`);

    await server.consumeTopics(PARTIES, [a, b]);

    await waitFor('the message left on the topic added back', async () => seen.parties.includes(`${a} while dropped`));
    expect(server.isHealthy()).toBe(true);
  });

  it('emits through PinflowKafkaClient only what the topic\'s contract allows, as CloudEvents on the events topic', async () => {
    const client = new PinflowKafkaClient(producer);
    const event = buildEvent(EVENT_TYPES.failed, {
      source: '/pinflow/it',
      cardId: 'card-1',
      data: { vendor: 'pismo', requestId: randomUUID(), commandId: randomUUID(), operation: 'change_pin', reason: 'INVALID_COMMAND' },
    });

    await lastValueFrom(client.emit(EVENTS_TOPIC, { key: event.subject, value: event }), { defaultValue: undefined });
    await expect(lastValueFrom(client.emit(EVENTS_TOPIC, { key: 'card-1', value: { ...event, type: 'not.a.pinflow.event' } }))).rejects.toThrow();

    const published = await waitFor('the emitted event', async () => recorder.messages.find((message) => message.topic === EVENTS_TOPIC && message.value.includes(event.id)));
    expect(published.headers['content-type']).toBe('application/cloudevents+json');
    expect(JSON.parse(published.value)).toEqual(event);
  });
});
