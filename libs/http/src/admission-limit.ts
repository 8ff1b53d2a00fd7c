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

/** The 503 problem with Retry-After, answered before the app sees the request; counted in the HTTP metrics. */
function refuse(request: IncomingMessage, response: ServerResponse): void {
  observeHttpRequest(request, response, () => UNMATCHED_ROUTE, () => response.writeHead(503, REFUSAL_HEADERS).end(REFUSAL_BODY));
}

/**
 * Puts `front` before the app's one request listener: no framework hook runs early enough to refuse
 * a request before its body is parsed and it is routed.
 */
function inFrontOfApp(server: Server, front: (request: IncomingMessage, response: ServerResponse, app: RequestListener) => void): void {
  const handlers = server.listeners('request') as RequestListener[];
  if (handlers.length !== 1) throw new Error(`expected the app's one request listener, found ${handlers.length}`);
  const [app] = handlers;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => front(request, response, app));
}

/**
 * Beyond `maxInProgress` requests in progress, more of those it `applies` to are refused at once (the
 * same 503 problem, with Retry-After, as any request a service sheds), before the app sees them: no
 * body parsing, routing, token check or logging. Under overload the server then spends its CPU on the
 * requests it can finish rather than on refusing others, and those it takes are answered without a
 * multi-second queue.
 */
export function limitAdmission(server: Server, options: AdmissionLimitOptions): void {
  let inProgress = 0;
  inFrontOfApp(server, (request, response, app) => {
    if (!options.applies(request)) return app(request, response);
    if (inProgress >= options.maxInProgress) return refuse(request, response);
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

/**
 * Once the server is closing (`closing()`), a request that still arrives, on a keep-alive connection
 * busy when the close began, gets the same 503 problem and its connection is closed: its client
 * retries elsewhere. Fastify's own answer there is a bare JSON 503 without Retry-After.
 */
export function refuseWhileClosing(server: Server, closing: () => boolean): void {
  inFrontOfApp(server, (request, response, app) => {
    if (!closing()) return app(request, response);
    response.setHeader('Connection', 'close');
    refuse(request, response);
  });
}
