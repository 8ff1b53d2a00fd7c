import { EVENT_TYPES } from '@pinflow/contracts';

export type RequestStatus = 'accepted' | 'succeeded' | 'failed' | 'unknown';

const SUCCESS_TYPES: ReadonlySet<string> = new Set([EVENT_TYPES.passwordChanged, EVENT_TYPES.passwordTriesIncreased]);

/**
 * A request's status as its events tell it. A failure outweighs any success, so a request that ever
 * failed is never reported as fine; without an `accepted` event (not recorded yet, or lost
 * upstream) and without an outcome, the trail cannot say.
 */
export function requestStatus(eventTypes: readonly string[]): RequestStatus {
  if (eventTypes.includes(EVENT_TYPES.failed)) return 'failed';
  if (eventTypes.some((type) => SUCCESS_TYPES.has(type))) return 'succeeded';
  if (eventTypes.includes(EVENT_TYPES.accepted)) return 'accepted';
  return 'unknown';
}
