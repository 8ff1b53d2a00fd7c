import { buildEvent, CloudEvent, EventData, EventType, EVENT_TYPES, FAILURE_REASONS, PinflowEvent, Vendor } from '@pinflow/contracts';
import { deterministicEventId } from './event-ids';
import { isTransient } from './retry-policy';
import { summarizeVendorError, VendorErrorSummary } from './vendor-errors';
import { VendorCallResult, vendorStatusOf } from '@pinflow/vendor-http';

/**
 * Progress of a command in vendor_commands. CALLING is written before every call to the vendor, so a
 * command found CALLING has maybe been applied and must never be sent again. Only the two states that
 * say the vendor surely applied none of the calls so far allow another one: RETRYING (between
 * retries) and FAILED_RETRYABLE (when a replay brings the command back).
 */
export const COMMAND_STATES = {
  calling: 'CALLING',
  /** Every call so far failed without being applied (5xx, 429, refused); the next one is due. */
  retrying: 'RETRYING',
  /** The vendor accepted the command; one of its own events will tell how it ended. */
  awaitingVendorEvent: 'AWAITING_VENDOR_EVENT',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  /** Failed without the vendor applying it (retries spent, secret undecryptable): a replay may run it again. */
  failedRetryable: 'FAILED_RETRYABLE',
} as const;
export type FinalState = typeof COMMAND_STATES.succeeded | typeof COMMAND_STATES.failed | typeof COMMAND_STATES.failedRetryable;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The parts of a command its outcome events name. */
export interface CommandRef {
  vendor: Vendor;
  commandId: string;
  requestId: string;
  cardId: string;
  operation: string;
}

/** The CloudEvents source of every event a vendor's worker publishes. */
export function eventSource(vendor: Vendor): string {
  return `/pinflow/worker-${vendor}`;
}

/**
 * The id of the pinflow event derived from a vendor's event: from the vendor's event id alone, so
 * the vendor's own redeliveries dedupe downstream too.
 */
export function vendorEventId(vendor: Vendor, eventId: string): string {
  return deterministicEventId(`${vendor}-event`, eventId);
}

/** The data every event about a command carries; the rest is the event type's own. */
type CommandCorrelation = 'vendor' | 'requestId' | 'commandId';

/**
 * An event about a command. Its id is derived from the command, the type and `idParts`, so an outcome
 * built again after a redelivery is the same event and consumers' dedupe absorbs it.
 */
export function commandEvent<T extends EventType>(
  type: T,
  command: CommandRef,
  data: Omit<EventData<T>, CommandCorrelation>,
  ...idParts: string[]
): CloudEvent<T> {
  return buildEvent(type, {
    id: deterministicEventId(command.commandId, type, ...idParts),
    source: eventSource(command.vendor),
    cardId: command.cardId,
    data: { vendor: command.vendor, requestId: command.requestId, commandId: command.commandId, ...data } as EventData<T>,
  });
}

export interface VendorAnswer {
  status?: number;
  error?: VendorErrorSummary;
}

export function failedEvent(command: CommandRef, reason: FailureReason, vendor: VendorAnswer = {}): PinflowEvent {
  return commandEvent(
    EVENT_TYPES.failed,
    command,
    {
      operation: command.operation,
      reason,
      ...(vendor.status === undefined ? {} : { vendorStatus: vendor.status }),
      ...(vendor.error === undefined ? {} : { vendorError: vendor.error }),
    },
    reason,
  );
}

/** The reason a failure event gives; undefined for any other event. */
export function failureReasonOf(event: PinflowEvent): FailureReason | undefined {
  return event.type === EVENT_TYPES.failed ? event.data.reason : undefined;
}

/** Why a call that did not succeed failed, by what HTTP says; a vendor with error codes of its own may know better. */
export function failureReasonFor(result: VendorCallResult): FailureReason {
  if (result.kind === 'token_refused') return 'VENDOR_UNAUTHORIZED';
  if (result.kind === 'unreachable' || isTransient(result)) return 'VENDOR_UNAVAILABLE';
  if (result.status === 404) return 'CARD_NOT_FOUND';
  if (result.status === 401) return 'VENDOR_UNAUTHORIZED';
  return 'VENDOR_REJECTED';
}

/** Where a command stands after its last call to the vendor, and the event that says so (if any yet). */
export type Settlement =
  /** No vendorStatus when the call's answer was lost and only the vendor's event can tell. */
  | { state: typeof COMMAND_STATES.awaitingVendorEvent; correlationId: string; vendorStatus?: number }
  | { state: FinalState; event: PinflowEvent; vendorStatus?: number };

/** A call that did not succeed: FAILED, with the vendor's status and a PIN-free summary of its error. */
export function failedSettlement(command: CommandRef, result: VendorCallResult, reason: FailureReason = failureReasonFor(result)): Settlement {
  const vendorStatus = vendorStatusOf(result);
  const error = result.kind === 'answered' ? summarizeVendorError(result.body) : undefined;
  return { state: COMMAND_STATES.failed, event: failedEvent(command, reason, { status: vendorStatus, error }), vendorStatus };
}

/** The pinflow event a vendor's event stands for, and the state it moves its command to; or why there is none. */
export type VendorEventTranslation = { event: PinflowEvent; settles?: FinalState } | { skip: string };
