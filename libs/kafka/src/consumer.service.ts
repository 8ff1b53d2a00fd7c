import { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { RunningConsumer } from './consumer';

/**
 * Base for a service that owns one Kafka consumer: started once the app is up, stopped (finishing
 * the message in hand and committing its offset) before the producer and database go away.
 */
export abstract class ConsumerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running?: RunningConsumer;

  protected abstract startConsumer(): Promise<RunningConsumer>;

  async onApplicationBootstrap(): Promise<void> {
    this.running = await this.startConsumer();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.running?.stop();
  }

  isHealthy(): boolean {
    return this.running?.isHealthy() ?? false;
  }
}
