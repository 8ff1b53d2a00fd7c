/**
 * kafkajs 2.2.4 (its last release) re-arms a timer on every broker connection whether or not a request
 * waits: `RequestQueue.scheduleCheckPendingRequests` sets a `setTimeout` of `throttledUntil - now`,
 * which is negative when nothing is throttled, so each connection checks an empty queue every
 * millisecond for as long as it is open (tulios/kafkajs#1556, #1604, #1704; the fix, #1667, was never
 * merged). Each pinflow service spent ~40 ms of CPU a second on it idle, and under load the same
 * timers added event-loop turns between every batch.
 *
 * This applies #1667's fix to kafkajs' own class: a check is scheduled only while requests wait, at
 * the end of the throttle, or after kafkajs' own 10 ms when the throttle is (nearly) over (#1532's
 * case). Requests that wait because too many are in flight are still sent when one of those
 * completes, as kafkajs does (fulfilled and timed-out requests check the queue themselves).
 */

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

// kafkajs' CHECK_PENDING_REQUESTS_INTERVAL, which its module does not export.
const THROTTLE_RECHECK_MS = 10;

// kafkajs publishes no types for its internals, and its package has no "exports" map, so its own
// module (the one its connections construct) is reachable by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };

function scheduleCheckWhileRequestsWait(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : THROTTLE_RECHECK_MS,
  );
}

/** The kafkajs class the fix applies to, for the spec that checks it. */
export const kafkajsRequestQueue = RequestQueue;

RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckWhileRequestsWait;
