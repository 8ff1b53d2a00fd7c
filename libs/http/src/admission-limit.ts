import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { observeHttpRequest, UNMATCHED_ROUTE } from './metrics';
import { RETRY_AFTER_SECONDS, UNAVAILABLE_PROBLEM } from './problem';

/** Which requests count against the limit, and how many of them may be in progress at once. */
export interface AdmissionLimitOptions {
  maxInProgress: number;
  applies: (request: IncomingMessage) => boolean;
}

const REFUSAL_BODY = JSON.stringify(UNAVAILABLE_PROBLEM);
const REFUSAL_HEADERS = {
  'Content-Type': 'application/problem+json; charset=utf-8',
  'Content-Length': String(Buffer.byteLength(REFUSAL_BODY)),
  'Cache-Control': 'no-store',
  'Retry-After': String(RETRY_AFTER_SECONDS),
};

/**
 * Beyond `maxInProgress` requests in progress, more of those it `applies` to are refused at once (the
 * same 503 problem, with Retry-After, as any request a service sheds), before the app sees them: no
 * body parsing, routing, token check or logging. Under overload the server then spends its CPU on the
 * requests it can finish rather than on refusing others, and those it takes are answered without a
 * multi-second queue. It wraps the server's request listener because no framework middleware runs
 * early enough; the refusals still count in the HTTP metrics.
 */
export function limitAdmission(server: Server, options: AdmissionLimitOptions): void {
  const handlers = server.listeners('request') as RequestListener[];
  if (handlers.length !== 1) throw new Error(`limitAdmission expects the app's one request listener, found ${handlers.length}`);
  const [app] = handlers;
  server.removeAllListeners('request');
  let inProgress = 0;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!options.applies(request)) return app(request, response);
    if (inProgress >= options.maxInProgress) {
      observeHttpRequest(request, response, () => UNMATCHED_ROUTE, () => response.writeHead(503, REFUSAL_HEADERS).end(REFUSAL_BODY));
      return;
    }
    inProgress += 1;
    let released = false;
    // 'close' also comes for a caller that hung up before its answer; either way it is counted once.
    response.once('close', () => {
      if (released) return;
      released = true;
      inProgress -= 1;
    });
    app(request, response);
  });
}
