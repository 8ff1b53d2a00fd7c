import { buildEvent, EVENT_TYPES, FAILURE_REASONS, type PinflowEvent, type Vendor } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';

/** The vendor's confirmation that command `commandId` changed the card's PIN. */
export function completed(cardId: string, commandId: string, vendor: Vendor = 'pismo'): PinflowEvent {
  return buildEvent(EVENT_TYPES.passwordChanged, { source: '/test/worker', cardId, data: { vendor, requestId: randomUUID(), commandId } });
}

/** Command `commandId` failed for `reason`. */
export function failed(cardId: string, commandId: string, reason: (typeof FAILURE_REASONS)[number], vendor: Vendor = 'pismo'): PinflowEvent {
  return buildEvent(EVENT_TYPES.failed, { source: '/test/worker', cardId, data: { vendor, requestId: randomUUID(), commandId, operation: 'change_pin', reason } });
}
