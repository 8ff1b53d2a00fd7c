import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemException } from './problem';

/**
 * A body that no parser read (text/plain, a form where forms are not taken, no Content-Type) would
 * reach its handler as no body at all and be refused as invalid (400), though it is its media type
 * that is wrong: 415. Checked after the middleware, so an app's own parser (the sandboxes' token
 * forms) counts; a request without content (a body-less action) needs no type. A guard rather than an
 * interceptor: any global interceptor puts every request of the app through an RxJS pipeline, which
 * cost the sandboxes and intake more CPU than this check is worth.
 */
@Injectable()
export class UnparsedBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    const hasContent = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (hasContent && request.body === undefined) {
      throw new ProblemException(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Request bodies must be JSON (Content-Type: application/json).');
    }
    return true;
  }
}
