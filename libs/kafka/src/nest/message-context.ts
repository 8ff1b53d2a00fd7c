import { BaseRpcContext } from '@nestjs/microservices';
import type { MessageMeta } from '../consumer';

/**
 * What a handler's `@Ctx()` gets: where its message (or each message of its batch) came from, and
 * the heartbeat that keeps the consumer in its group during long handling.
 */
export class KafkaMessageContext extends BaseRpcContext<[MessageMeta[]]> {
  /** One entry per message, in the order of the payload (a batch handler's payload is an array). */
  getMessages(): MessageMeta[] {
    return this.args[0];
  }

  getTopic(): string {
    return this.args[0][0].topic;
  }

  getPartition(): number {
    return this.args[0][0].partition;
  }

  heartbeat(): Promise<void> {
    return this.args[0][0].heartbeat();
  }
}
