import { EVENTS_TOPIC, EVENT_TYPES } from '@pinflow/contracts';
import { DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { KafkaRequester } from '@pinflow/platform';
import { RecordedMessage, testEnv, waitFor } from '@pinflow/testing';
import type { CryptoKey } from 'jose';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { dumpDatabase, readLogs, startSuite, Suite, SuiteOptions } from './support';

/** A suite whose stack takes requests through the Kafka door from one registered requester, and what it reads the answers with. */
export interface KafkaDoorSuite extends Suite {
  requester: KafkaRequester;
  /** Another registered requester, whose topic is not the requester's. */
  other: KafkaRequester;
  /** A reply topic registered for the requester. */
  replyTopic: string;
  /** Publishes a request keyed by its card, signed by the requester, with another key, or (null) not at all, on the requester's topic unless told. */
  publish(cardId: string, request: unknown, key?: CryptoKey | null, topic?: string): Promise<void>;
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

/**
 * Starts a suite (see startSuite) with two requesters registered with intake, `core-banking` and
 * `card-lifecycle` (each with its tenant in `tenants`, if any), recording the Kafka door's topics besides `topics`.
 */
export async function startKafkaDoorSuite({ env = {}, topics, tenants, ...options }: SuiteOptions & { tenants?: Record<string, string> }): Promise<KafkaDoorSuite> {
  const replyTopic = `core-banking.pinflow-answers.${randomUUID().slice(0, 8)}`;
  const requester = await KafkaRequester.create('core-banking', [replyTopic]);
  const other = await KafkaRequester.create('card-lifecycle');
  const suite = await startSuite({
    ...options,
    env: { ...env, intake: { ...env.intake, ...KafkaRequester.intakeEnvOf([requester, other], tenants) } },
    topics: [...new Set([requester.topic, other.topic, EVENTS_TOPIC, replyTopic, DEAD_LETTER_TOPIC, ...topics])],
  });
  const producer = new Kafka({ clientId: requester.name, brokers: testEnv().kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).producer();
  try {
    await producer.connect();
  } catch (error) {
    await suite.stop();
    throw error;
  }
  const { recorder } = suite;

  const answersTo = (clientRequestId: string, topic = EVENTS_TOPIC) =>
    recorder.json<any>(topic).filter((event) => [EVENT_TYPES.accepted, EVENT_TYPES.rejected].includes(event.type) && event.data.clientRequestId === clientRequestId);
  return {
    ...suite,
    requester,
    other,
    replyTopic,
    async publish(cardId, request, key, topic = requester.topic) {
      await producer.send({ topic, messages: [await requester.message(cardId, request, key)] });
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
        kafka: recorder.messages.map((message) => `${message.topic} ${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n'),
        logs: readLogs(suite.stack),
        rows: await dumpDatabase(testEnv().databaseUrl),
      };
    },
    async stop() {
      await producer.disconnect();
      await suite.stop();
    },
  };
}
