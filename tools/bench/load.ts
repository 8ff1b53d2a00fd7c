import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { z } from 'zod';

/** One POST to intake, built before the clock starts where it can be. */
export interface PreparedRequest {
  path: string;
  body: Buffer;
}

/** What a door answered one request: accepted as `requestId`, or refused for a reason. */
export type Outcome = { requestId: string } | { refusal: string };

/** How the load generator hands intake a request (HTTP or the Kafka door) and learns its answer; never throws on an answer. */
export interface Door<R> {
  submit(request: R): Promise<Outcome>;
  close(): Promise<void>;
}

/** The HTTP door also opens its connections ahead of the load, as callers with a connection pool have them. */
export interface HttpDoor extends Door<PreparedRequest> {
  /** Opens up to `count` keep-alive connections at once (each a liveness probe) and keeps them for the load. */
  connect(count: number): Promise<number>;
}

export interface LoadOptions<R> {
  door: Door<R>;
  /** The next request to send; may be async for vendors whose requests cannot be built ahead. */
  next: () => R | Promise<R>;
  durationMs: number;
  /** Open loop: requests started per second whatever the answers. Without it, closed loop. */
  rate?: number;
  /** Closed loop: requests in flight, each sent as soon as the previous answer arrives. */
  concurrency: number;
  /** Open loop: above this many unanswered requests, due ones are skipped (counted) rather than queued. */
  maxInFlight: number;
}

export interface LoadResult {
  /** requestId → when it was accepted (the 202, or the accepted answer on the reply topic; epoch ms). */
  accepted: Map<string, number>;
  /** ms from sending (closed loop) or from the intended send time (open loop, so queueing is not hidden) to the acceptance. */
  acceptLatencies: number[];
  /** Answers other than acceptance and failed exchanges, by reason: `503 TEMPORARILY_UNAVAILABLE`, `network UND_ERR_SOCKET: other side closed`, `network TIMEOUT: no answer in 30000 ms`, `rejected PIN_REJECTED`. */
  refused: Record<string, number>;
  /** Open loop only: due requests never sent because maxInFlight were unanswered. */
  skipped: number;
  sent: number;
  seconds: number;
}

const acceptedBody = z.object({ requestId: z.string() });
const problemBody = z.object({ code: z.string() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A failed exchange as a refusal: a timeout as `network TIMEOUT`, else by the error's code. */
function networkRefusal(error: unknown, timeoutMs: number): Outcome {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { refusal: `network TIMEOUT: no answer in ${timeoutMs} ms` };
  return { refusal: `network ${code ?? 'ERROR'}: ${message ?? String(error)}` };
}

/**
 * intake's HTTP door over a keep-alive connection pool (undici's Pool: the cheapest client Node has,
 * so that the load generator, on the same cores, takes as little as it can from the stack under
 * overload); answers and broken connections are results, counted by reason.
 */
export function httpDoor(options: { baseUrl: string; token: string; maxSockets: number; timeoutMs: number }): HttpDoor {
  const pool = new Pool(options.baseUrl, { connections: options.maxSockets, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const submit = async (request: PreparedRequest): Promise<Outcome> => {
    try {
      const response = await pool.request({
        method: 'POST',
        path: request.path,
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: request.body,
      });
      const body = parseJson(await response.body.text());
      const accepted = acceptedBody.safeParse(body);
      if (response.statusCode === 202 && accepted.success) return { requestId: accepted.data.requestId };
      const problem = problemBody.safeParse(body);
      return { refusal: `${response.statusCode} ${problem.success ? problem.data.code : '(no problem code)'}` };
    } catch (error) {
      return networkRefusal(error, options.timeoutMs);
    }
  };
  const probe = async (): Promise<boolean> => {
    try {
      const response = await pool.request({ method: 'GET', path: '/health/live' });
      await response.body.dump();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  };
  // The pool opens a connection for each request it cannot give an idle one: as many at once as asked.
  const connect = async (count: number): Promise<number> => (await Promise.all(Array.from({ length: Math.min(count, options.maxSockets) }, probe))).filter(Boolean).length;
  return { submit, connect, close: () => pool.destroy() };
}

/** Sends `next()` requests through the door for the duration, closed or open loop, and counts what came back. */
export async function runLoad<R>(options: LoadOptions<R>): Promise<LoadResult> {
  const result: LoadResult = { accepted: new Map(), acceptLatencies: [], refused: {}, skipped: 0, sent: 0, seconds: 0 };
  const refuse = (reason: string) => {
    result.refused[reason] = (result.refused[reason] ?? 0) + 1;
  };

  const send = async (startedAt: number): Promise<void> => {
    result.sent += 1;
    let outcome: Outcome;
    try {
      outcome = await options.door.submit(await options.next());
    } catch (error) {
      // Building the request failed (a vendor sandbox hook under load): the change was never offered.
      outcome = { refusal: `not sent: ${error instanceof Error ? error.message : String(error)}` };
    }
    if ('refusal' in outcome) return refuse(outcome.refusal);
    const now = Date.now();
    result.accepted.set(outcome.requestId, now);
    result.acceptLatencies.push(now - startedAt);
  };

  const started = Date.now();
  const deadline = started + options.durationMs;
  if (options.rate) {
    const interval = 1000 / options.rate;
    const inFlight = new Set<Promise<void>>();
    let issued = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = Date.now();
        while (issued < (Math.min(now, deadline) - started) / interval) {
          const intended = started + issued * interval;
          issued += 1;
          if (inFlight.size >= options.maxInFlight) {
            result.skipped += 1;
            continue;
          }
          const sending = send(intended).finally(() => inFlight.delete(sending));
          inFlight.add(sending);
        }
        if (now >= deadline) {
          clearInterval(tick);
          void Promise.all(inFlight).then(() => resolve());
        }
      }, 1);
    });
  } else {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (Date.now() < deadline) await send(Date.now());
      }),
    );
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** The p-th percentile (nearest rank) of ascending values, in whole ms; null when there are none. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
}
