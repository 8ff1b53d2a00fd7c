import { buildEvent, EVENT_TYPES, FAILURE_REASONS, PinflowEvent, PismoCommand } from '@pinflow/contracts';
import { deterministicEventId } from './event-ids';
import { correlationIdFromCardUpdated, isSuccess, summarizeVendorError, VendorCallResult, vendorStatusOf, VendorErrorSummary } from './pismo/vendor-response';
import { isTransient } from './retry-policy';

export const EVENT_SOURCE = '/pinflow/worker-pismo';

/**
 * Progress of a command in pismo_commands. CALLING is written before the first call to Pismo, so a
 * command found in any state has (maybe) been sent and must never be sent again.
 */
export const COMMAND_STATES = {
  calling: 'CALLING',
  /** Pismo accepted the password change; its update_password-1 event tells how it ended. */
  awaitingVendorEvent: 'AWAITING_VENDOR_EVENT',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
} as const;
export type CommandState = (typeof COMMAND_STATES)[keyof typeof COMMAND_STATES];

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The parts of a command its outcome events name. */
export interface CommandRef {
  commandId: string;
  requestId: string;
  cardId: string;
  operation: string;
}

export interface VendorAnswer {
  status?: number;
  error?: VendorErrorSummary;
}

export function failedEvent(command: CommandRef, reason: FailureReason, vendor: VendorAnswer = {}): PinflowEvent {
  return buildEvent(EVENT_TYPES.failed, {
    id: deterministicEventId(command.commandId, EVENT_TYPES.failed, reason),
    source: EVENT_SOURCE,
    cardId: command.cardId,
    data: {
      vendor: 'pismo',
      requestId: command.requestId,
      commandId: command.commandId,
      operation: command.operation,
      reason,
      ...(vendor.status === undefined ? {} : { vendorStatus: vendor.status }),
      ...(vendor.error === undefined ? {} : { vendorError: vendor.error }),
    },
  });
}

/** Why a call that did not succeed failed. */
export function failureReasonFor(result: VendorCallResult): FailureReason {
  if (result.kind === 'token_refused') return 'VENDOR_UNAUTHORIZED';
  if (result.kind === 'unreachable' || isTransient(result)) return 'VENDOR_UNAVAILABLE';
  if (result.status === 404) return 'CARD_NOT_FOUND';
  if (result.status === 401) return 'VENDOR_UNAUTHORIZED';
  return 'VENDOR_REJECTED';
}

export type Settlement =
  | { state: typeof COMMAND_STATES.awaitingVendorEvent; correlationId: string; vendorStatus: number }
  | { state: typeof COMMAND_STATES.succeeded | typeof COMMAND_STATES.failed; event: PinflowEvent; vendorStatus?: number };

/** Where a command stands after its last call to Pismo, and the event that says so (if any yet). */
export function settle(command: PismoCommand, result: VendorCallResult): Settlement {
  const vendorStatus = vendorStatusOf(result);
  if (result.kind === 'answered' && isSuccess(result)) {
    if (command.operation === 'change_pin') {
      // Pismo's events carry the cid from its answer; it normally echoes the x-cid we sent.
      const correlationId = correlationIdFromCardUpdated(result.body) ?? command.commandId;
      return { state: COMMAND_STATES.awaitingVendorEvent, correlationId, vendorStatus: result.status };
    }
    const event = buildEvent(EVENT_TYPES.passwordTriesIncreased, {
      id: deterministicEventId(command.commandId, EVENT_TYPES.passwordTriesIncreased),
      source: EVENT_SOURCE,
      cardId: command.cardId,
      data: { vendor: 'pismo', requestId: command.requestId, commandId: command.commandId, blockCardExceedsCounter: command.blockCardExceedsCounter },
    });
    return { state: COMMAND_STATES.succeeded, event, vendorStatus: result.status };
  }
  const error = result.kind === 'answered' ? summarizeVendorError(result.body) : undefined;
  return { state: COMMAND_STATES.failed, event: failedEvent(command, failureReasonFor(result), { status: vendorStatus, error }), vendorStatus };
}
