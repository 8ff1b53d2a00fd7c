import { kafkajsRequestQueue } from './request-queue-timer';

/** kafkajs' per-connection request queue, as far as these specs drive it. */
interface RequestQueue {
  push(request: { entry: { correlationId: number; apiKey: number; apiName: string; apiVersion: number; resolve: () => void; reject: () => void }; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(milliseconds: number): void;
}

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function connectionQueue(maxInFlightRequests?: number) {
  const Queue = kafkajsRequestQueue as unknown as new (options: object) => RequestQueue;
  const queue = new Queue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'spec', broker: 'broker:9092', logger: silent });
  const sent: number[] = [];
  let nextCorrelationId = 1;
  return {
    queue,
    sent,
    /** Queues a request the way a connection does, and returns its correlation id. */
    request(): number {
      const correlationId = nextCorrelationId++;
      queue.push({
        entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 3, resolve: () => {}, reject: () => {} },
        expectResponse: true,
        sendRequest: () => sent.push(correlationId),
      });
      return correlationId;
    },
    answer(correlationId: number): void {
      queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });
    },
  };
}

describe("kafkajs' request queue, with its idle timer loop fixed", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer once every request is answered, so an idle connection costs no CPU', () => {
    const connection = connectionQueue();
    connection.answer(connection.request());

    expect(connection.sent).toEqual([1]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request that waited for room in flight as soon as an earlier one is answered', () => {
    const connection = connectionQueue(1);
    const first = connection.request();
    const second = connection.request();
    expect(connection.sent).toEqual([first]);

    connection.answer(first);
    expect(connection.sent).toEqual([first, second]);
    connection.answer(second);
    // The check armed while the second waited may still fire once; it must not arm another.
    jest.runOnlyPendingTimers();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('holds a request while the broker throttles the client, and sends it when the throttle ends', () => {
    const connection = connectionQueue();
    connection.queue.maybeThrottle(500);
    const throttled = connection.request();

    jest.advanceTimersByTime(499);
    expect(connection.sent).toEqual([]);
    jest.advanceTimersByTime(11);
    expect(connection.sent).toEqual([throttled]);
    connection.answer(throttled);
    expect(jest.getTimerCount()).toBe(0);
  });
});
