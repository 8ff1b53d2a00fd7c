import type { Logger } from '@pinflow/logging';
import { Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { KafkaSettings } from './config';
import { kafkaConnectionSecurity } from './security';
// Before any client exists: every connection kafkajs opens must use the fixed request queue.
import './request-queue-timer';

// kafkajs warns on every start that its default partitioner changed in 2.0; we key every message,
// and the default (murmur2, Java-compatible) partitioner is the one we want.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** A kafkajs client, secured as the settings say, whose log lines go through the service's (redacting) logger. */
export function createKafka(settings: KafkaSettings, clientId: string, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.KAFKA_CLIENT_ID ?? clientId,
    brokers: settings.KAFKA_BROKERS,
    ...kafkaConnectionSecurity(settings, clientId),
    logLevel: KafkaLogLevel.WARN,
    retry: { initialRetryTime: 300, retries: 10 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
        kafkaLogger[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}
