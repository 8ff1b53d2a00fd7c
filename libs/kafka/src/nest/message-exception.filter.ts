import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a message handler's error back to the transport as it was thrown. Nest's default RPC filter
 * would replace it with `{ status: 'error' }`, and the transport needs the error itself to decide:
 * an infrastructure fault is waited out, a contract violation is dead-lettered at once, anything
 * else is retried and then dead-lettered as HANDLER_FAILED.
 */
@Catch()
export class MessageExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
