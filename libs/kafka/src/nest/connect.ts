import type { INestApplication } from '@nestjs/common';
import type { MicroserviceOptions, NestMicroservice } from '@nestjs/microservices';
import { MessageExceptionFilter } from './message-exception.filter';
import { PinflowKafkaServer } from './pinflow-kafka.server';

/**
 * Makes an HTTP app hybrid: its `@EventPattern` handlers consume Kafka through the app's
 * PinflowKafkaServer provider, with the message exception filter every handler needs. Call after `app.init()` (topics and producers are set up in module init) and
 * before `listen`; consumers stop on shutdown before the producer and the database close.
 */
export async function connectKafkaTransport(app: INestApplication): Promise<void> {
  const server = app.get(PinflowKafkaServer);
  // Deferred, so that the filter is in place before the handlers are registered. The
  // app already ran its init and bootstrap hooks: a deferred microservice would run them all again
  // (a second outbox relay, a second sweep) unless told.
  const microservice = app.connectMicroservice<MicroserviceOptions>({ strategy: server }, { deferInitialization: true }) as unknown as NestMicroservice;
  microservice.setIsInitHookCalled(true);
  microservice.useGlobalFilters(new MessageExceptionFilter());
  await app.startAllMicroservices();
}
