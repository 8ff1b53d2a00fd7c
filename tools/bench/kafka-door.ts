import { EVENT_TYPES } from '@pinflow/contracts';
import type { SignedMessage } from '@pinflow/platform';
import { Kafka, KafkaConfig, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Door, Outcome } from './load';

/** One request for the Kafka door: its signed message and the request id its answer will carry. */
export interface PreparedMessage {
  clientRequestId: string;
  message: SignedMessage;
}

const answer = z.object({
  type: z.string(),
  data: z.object({ clientRequestId: z.string(), requestId: z.string().optional(), problem: z.object({ code: z.string() }).optional() }),
});

/**
 * intake's Kafka door as an upstream system uses it: each request is published to the requester's
 * request topic and answered when its accepted or rejected answer arrives on the requester's
 * reply topic (a rejection counts as a refusal, by its problem code). On a secured broker it signs in
 * as the requester (`security`), which may join only consumer groups named after it.
 */
export async function kafkaDoor(options: {
  brokers: string;
  requester: string;
  requestTopic: string;
  replyTopic: string;
  timeoutMs: number;
  security?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
}): Promise<Door<PreparedMessage>> {
  const kafka = new Kafka({ clientId: options.requester, brokers: options.brokers.split(','), logLevel: logLevel.NOTHING, ...options.security });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${options.requester}-bench-${randomUUID()}`, allowAutoTopicCreation: false });
  const pending = new Map<string, (outcome: Outcome) => void>();
  const settle = (clientRequestId: string, outcome: Outcome) => {
    pending.get(clientRequestId)?.(outcome);
    pending.delete(clientRequestId);
  };

  await Promise.all([producer.connect(), consumer.connect()]);
  // The reply topic is this run's own: reading it from the start misses no answer sent before the group settled.
  await consumer.subscribe({ topic: options.replyTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      let value: unknown;
      try {
        value = JSON.parse(message.value?.toString('utf8') ?? '');
      } catch {
        return;
      }
      const parsed = answer.safeParse(value);
      if (!parsed.success) return;
      const { type, data } = parsed.data;
      if (type === EVENT_TYPES.accepted && data.requestId) settle(data.clientRequestId, { requestId: data.requestId });
      else if (type === EVENT_TYPES.rejected) settle(data.clientRequestId, { refusal: `rejected ${data.problem?.code ?? '(no problem code)'}` });
    },
  });

  return {
    submit: ({ clientRequestId, message }) =>
      new Promise<Outcome>((resolve) => {
        const timer = setTimeout(() => settle(clientRequestId, { refusal: `no answer in ${options.timeoutMs} ms` }), options.timeoutMs);
        pending.set(clientRequestId, (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        });
        producer.send({ topic: options.requestTopic, messages: [message] }).catch((error: Error) => settle(clientRequestId, { refusal: `not published: ${error.name}` }));
      }),
    async close() {
      await Promise.all([producer.disconnect(), consumer.disconnect()]);
    },
  };
}
