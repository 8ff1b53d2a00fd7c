import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { Observable, tap } from 'rxjs';
import { KafkaMessageContext } from './message-context';

/**
 * Logs where each handled message came from and how long its handling took, at debug level: offsets
 * and counts only, since payloads may hold sealed secrets and belong in the audit trail, not in logs.
 */
@Injectable()
export class MessageLoggingInterceptor implements NestInterceptor {
  constructor(private readonly logger: Logger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.logger.isLevelEnabled('debug')) return next.handle();
    const messages = context.switchToRpc().getContext<KafkaMessageContext>().getMessages();
    const started = performance.now();
    const where = {
      handler: `${context.getClass().name}.${context.getHandler().name}`,
      topic: messages[0].topic,
      partition: messages[0].partition,
      offsets: messages.length === 1 ? messages[0].offset : `${messages[0].offset}..${messages[messages.length - 1].offset}`,
    };
    return next.handle().pipe(
      tap({
        next: () => this.logger.debug({ ...where, ms: Math.round(performance.now() - started) }, 'message handled'),
        error: (error: unknown) => this.logger.debug({ ...where, error: (error as Error)?.name }, 'message handling failed'),
      }),
    );
  }
}
