import { EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { KAFKA_REQUESTERS, KafkaRequester, LocalKafka, startTestKafka } from '@pinflow/platform';
import { RecordedMessage, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import type { CryptoKey } from 'jose';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dumpDatabase, readLogs, startSuite, Suite, SuiteKafka, SuiteOptions } from './support';

/** Which broker a Kafka-door suite runs on. */
export type DoorBroker =
  /** The test run's, plaintext or (PINFLOW_KAFKA_SECURED=1) secured. */
  | 'test-run'
  /** SASL_SSL with KAFKA_GRANTS' ACLs, each requester producing as its own principal: the test run's if it is secured, else one of the suite's own. */
  | 'secured';

export interface KafkaDoorSuiteOptions extends SuiteOptions {
  /** Default: the test run's. */
  broker?: DoorBroker;
  /** Registers the requesters in a file intake reads again every 200 ms (INTAKE_KAFKA_REQUESTERS_FILE), not in its environment. */
  requestersFile?: boolean;
  /** The tenant of each requester named here (whose cards it may act on when ownership is enforced). */
  tenants?: Record<string, string>;
}

/** Who publishes a request where: signed by `signer` (default: the requester), on the topic of `on` (default: the signer's), produced by `by` (default: the topic's owner). */
export interface Publishing {
  signer?: KafkaRequester;
  on?: KafkaRequester;
  by?: KafkaRequester;
}

/** A suite whose stack takes requests through the Kafka door from one registered requester, and what it reads the answers with. */
export interface KafkaDoorSuite extends Suite {
  /** Whether the broker speaks SASL_SSL only, with ACLs. */
  secured: boolean;
  requester: KafkaRequester;
  /** Another registered requester, whose topic is not the requester's. */
  other: KafkaRequester;
  /** The requester's registered reply topic, which it reads (as its own principal where Kafka authentication is on). */
  replyTopic: string;
  /** With `requestersFile`: its path, and registers exactly these requesters in it, resolving once intake has reloaded it. */
  requestersFile?: string;
  register(requesters: KafkaRequester[]): Promise<void>;
  /** Publishes a request keyed by its card, signed by the requester, with another key, or (null) not at all; `publishing` says on whose topic and by whom. */
  publish(cardId: string, request: unknown, key?: CryptoKey | null, publishing?: Publishing): Promise<void>;
  /** The accepted and rejected answers to a request id seen so far on a topic (the events topic unless told). */
  answersTo(clientRequestId: string, topic?: string): any[];
  answerTo(clientRequestId: string, topic?: string): Promise<any>;
  /** The event of `type` about a request, once it is on the events topic. */
  outcomeOf(requestId: string, type: string): Promise<any>;
  /** The commands published for a card, each once however often delivery repeated it (at least once). */
  commandsFor(cardId: string): string[];
  deadLetterFor(cardId: string): Promise<RecordedMessage>;
  /** Everything a secret could leak into: the recorded messages, the services' logs, every database row. */
  leakSurfaces(): Promise<{ kafka: string; logs: string; rows: string }>;
}

/** The broker of `kind`, and how to stop it if the suite started it. */
async function doorBroker(kind: DoorBroker): Promise<{ kafka: SuiteKafka; own?: LocalKafka }> {
  const testRun = testEnv();
  if (kind === 'test-run' || testRun.kafkaSecurity) return { kafka: testRun };
  const { kafka: own, kafkaSecurity } = await startTestKafka(true);
  return { kafka: { kafkaBrokers: own.brokers, kafkaSecurity }, own };
}

/**
 * Starts a suite (see startSuite) with two requesters registered with intake, `core-banking` and
 * `card-lifecycle` (those a secured broker has principals and grants for), recording the Kafka door's
 * topics besides `topics`; the requester's reply topic is read as the requester.
 */
export async function startKafkaDoorSuite({ broker = 'test-run', requestersFile: inFile = false, tenants, env = {}, topics, ...options }: KafkaDoorSuiteOptions): Promise<KafkaDoorSuite> {
  const replyTopic = KAFKA_REQUESTERS['core-banking'];
  const requester = await KafkaRequester.create('core-banking', [replyTopic]);
  const other = await KafkaRequester.create('card-lifecycle');
  const requestersFile = inFile ? path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-requesters-')), 'requesters.json') : undefined;
  // Replaced whole, as a mounted ConfigMap is: intake never reads half a file.
  const writeRequesters = (requesters: KafkaRequester[]) => {
    writeFileSync(`${requestersFile}.next`, KafkaRequester.registrationsOf(requesters, tenants));
    renameSync(`${requestersFile}.next`, requestersFile!);
  };
  if (requestersFile) writeRequesters([requester, other]);
  const registration = requestersFile
    ? { INTAKE_KAFKA_REQUESTERS_FILE: requestersFile, INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS: '200' }
    : KafkaRequester.intakeEnvOf([requester, other], tenants);
  const { kafka, own } = await doorBroker(broker);
  const { kafkaBrokers, kafkaSecurity } = kafka;
  const clientOf = (principal: KafkaRequester) => new Kafka({ clientId: principal.name, brokers: kafkaBrokers.split(','), logLevel: logLevel.NOTHING, ...kafkaSecurity?.requesters[principal.name] });
  const producers = new Map<KafkaRequester, Producer>();
  let suite: Suite | undefined;
  let answers: TopicRecorder | undefined;
  const stop = async () => {
    await Promise.all([...producers.values()].map((producer) => producer.disconnect()));
    await answers?.stop();
    await suite?.stop();
    await own?.stop();
  };
  try {
    suite = await startSuite({
      ...options,
      kafka,
      env: { ...env, intake: { ...env.intake, ...registration } },
      topics: [...new Set([requester.topic, other.topic, EVENTS_TOPIC, DEAD_LETTER_TOPIC, ...topics])],
    });
    // A requester may join only consumer groups named after it.
    answers = await new TopicRecorder(kafkaBrokers, [replyTopic], kafkaSecurity?.requesters[requester.name], requester.name).start();
    for (const principal of [requester, other]) {
      const producer = clientOf(principal).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      producers.set(principal, producer);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const { recorder } = suite;
  const recorded = (topic: string) => (topic === replyTopic ? answers! : recorder);

  const answersTo = (clientRequestId: string, topic = EVENTS_TOPIC) =>
    recorded(topic)
      .json<any>(topic)
      .filter((event) => [EVENT_TYPES.accepted, EVENT_TYPES.rejected].includes(event.type) && event.data.clientRequestId === clientRequestId);
  return {
    ...suite,
    secured: kafkaSecurity !== undefined,
    requester,
    other,
    replyTopic,
    requestersFile,
    async register(requesters) {
      if (!requestersFile) throw new Error('the suite registered its requesters in intake\'s environment: start it with requestersFile');
      const reloads = () => readLogs(suite!.stack).split('\n').filter((line) => line.includes('Kafka requesters reloaded')).length;
      // The same list again is no change, which intake does not reload.
      if (readFileSync(requestersFile, 'utf8') === KafkaRequester.registrationsOf(requesters)) return;
      const before = reloads();
      writeRequesters(requesters);
      await waitFor('intake to reload its requesters', async () => reloads() > before || undefined);
    },
    async publish(cardId, request, key, { signer = requester, on = signer, by = on } = {}) {
      await producers.get(by)!.send({ topic: on.topic, messages: [await signer.message(cardId, request, key)] });
    },
    answersTo,
    answerTo: (clientRequestId, topic = EVENTS_TOPIC) => waitFor(`the answer to ${clientRequestId} on ${topic}`, async () => answersTo(clientRequestId, topic)[0]),
    outcomeOf: (requestId, type) => recorder.waitForJson<any>(EVENTS_TOPIC, (event) => event.type === type && event.data.requestId === requestId, 30_000),
    commandsFor: (cardId) => [
      ...new Set(recorder.messages.filter((message) => message.topic.startsWith('pinflow.commands.') && message.key === cardId).map((message) => JSON.parse(message.value).commandId)),
    ],
    deadLetterFor: (cardId) => waitFor(`the dead letter of ${cardId}`, async () => recorder.messages.find((message) => message.topic === DEAD_LETTER_TOPIC && message.key === cardId)),
    async leakSurfaces() {
      // Let in-flight work finish so that its logs and rows are part of the search.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return {
        kafka: [...recorder.messages, ...answers!.messages].map((message) => `${message.topic} ${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n'),
        logs: readLogs(suite!.stack),
        rows: await dumpDatabase(testEnv().databaseUrl),
      };
    },
    stop,
  };
}
