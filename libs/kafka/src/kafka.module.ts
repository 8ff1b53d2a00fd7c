import { DynamicModule, FactoryProvider, Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { Kafka } from 'kafkajs';
import { createKafka } from './client';
import type { KafkaSettings } from './config';
import { MessageTrust, MessageTrustSettings } from './message-signing';
import { JsonProducer } from './producer';
import { ensureTopics, TopicSpec } from './topics';

export interface KafkaModuleOptions {
  settings: KafkaSettings & MessageTrustSettings;
  clientId: string;
  logger: Logger;
  /** Topics this service needs; created (or grown) before anything is produced or consumed. */
  topics: TopicSpec[];
  /** The producer's linger (see IdempotentProducer); none by default. */
  producerLingerMs?: number;
}

const KAFKA_MODULE_OPTIONS = Symbol('KAFKA_MODULE_OPTIONS');

@Injectable()
class KafkaLifecycle implements OnModuleInit, OnApplicationShutdown {
  private connected = false;

  constructor(
    @Inject(KAFKA_MODULE_OPTIONS) private readonly options: KafkaModuleOptions,
    private readonly kafka: Kafka,
    private readonly producer: JsonProducer,
  ) {}

  async onModuleInit(): Promise<void> {
    await ensureTopics(this.kafka, this.options.topics, this.options.settings.KAFKA_REPLICATION_FACTOR);
    await this.producer.connect();
    this.connected = true;
  }

  // After consumers stopped (beforeApplicationShutdown), so their last outcomes still get published.
  async onApplicationShutdown(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}

/** The service's message keys (MESSAGE_SIGNING_KEY_FILE, MESSAGE_SIGNERS_FILE), for a module without KafkaModule (audit). */
export function messageTrustProvider(settings: MessageTrustSettings, service: string, logger: Logger): FactoryProvider<MessageTrust> {
  return { provide: MessageTrust, useFactory: () => MessageTrust.open(settings, service, logger) };
}

/** One Kafka client and one connected producer per service, with topics ensured at start-up. */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_MODULE_OPTIONS, useValue: options },
        { provide: Kafka, useFactory: () => createKafka(options.settings, options.clientId, options.logger) },
        messageTrustProvider(options.settings, options.clientId, options.logger),
        { provide: JsonProducer, useFactory: (kafka: Kafka, trust: MessageTrust) => new JsonProducer(kafka, trust.signing, options.producerLingerMs), inject: [Kafka, MessageTrust] },
        KafkaLifecycle,
      ],
      exports: [Kafka, JsonProducer, MessageTrust],
    };
  }
}
