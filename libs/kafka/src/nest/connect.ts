import type { INestApplication } from '@nestjs/common';
import { MessageExceptionFilter } from './message-exception.filter';
import { MessageLoggingInterceptor } from './message-logging.interceptor';
import { PinflowKafkaServer } from './pinflow-kafka.server';

/**
 * Makes an HTTP app hybrid: its `@EventPattern` handlers consume Kafka through the app's
 * PinflowKafkaServer provider, with the message exception filter and logging interceptor every
 * handler needs. Call after `app.init()` (topics and producers are set up in module init) and
 * before `listen`; consumers stop on shutdown before the producer and the database close.
 */
export async function connectKafkaTransport(app: INestApplication): Promise<void> {
  const server = app.get(PinflowKafkaServer);
  // Deferred, so that the filter and interceptor are in place before the handlers are registered.
  const microservice = app.connectMicroservice({ strategy: server }, { deferInitialization: true });
  microservice.useGlobalFilters(new MessageExceptionFilter());
  microservice.useGlobalInterceptors(new MessageLoggingInterceptor(server.messageLogger));
  await app.startAllMicroservices();
}
