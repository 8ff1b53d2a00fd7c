import { changeRequestIdParam, EVENT_TYPES, SolarisCommand } from '@pinflow/contracts';
import {
  COMMAND_STATES,
  commandEvent,
  failedEvent,
  FailureReason,
  failureReasonFor,
  isSuccess,
  parseJsonOrText,
  Settlement,
  summarizeVendorError,
  VendorAnswered,
  VendorCallResult,
  VendorErrorSummary,
  vendorStatusOf,
} from '@pinflow/worker-kit';
import { z } from 'zod';

/** Solaris' error as pinflow passes it on: the kit's PIN-free summary, and the request field Solaris blamed. */
export interface SolarisErrorSummary extends VendorErrorSummary {
  field?: string;
}

// Only what looks like a field name is kept: the field is passed on as is, so it must not be able to carry a value.
const blamedField = z.object({ source: z.object({ field: z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/) }) });
const errorList = z.object({ errors: z.array(z.unknown()).min(1) });

/**
 * Solaris' JSON:API error: `errors[0]`, or the body itself as Solaris' 403/404/500 examples print it.
 * Its `status` comes as a string or an integer; pinflow goes by the HTTP status and does not read it.
 */
export function solarisErrorOf(body: string): SolarisErrorSummary | undefined {
  const parsed = parseJsonOrText(body);
  const list = errorList.safeParse(parsed);
  const field = blamedField.safeParse(list.success ? list.data.errors[0] : parsed).data?.source.field;
  const summary = summarizeVendorError(body);
  if (!summary && !field) return undefined;
  return { ...summary, ...(field ? { field } : {}) };
}

/**
 * Solaris takes no idempotency key or correlation id and has no way to ask whether a PIN change went
 * through, so a call that got no answer is never settled here: the kit fails it with OUTCOME_UNKNOWN.
 * A gateway's 504 is no better than no answer: Solaris may have changed the PIN behind it.
 */
const CONFIRMATIONS: ReadonlySet<SolarisCommand['operation']> = new Set(['confirm_change_request', 'sign_change_request']);

function reasonFor(command: SolarisCommand, result: VendorCallResult, error: SolarisErrorSummary | undefined): FailureReason {
  if (result.kind === 'answered' && result.status === 504) return 'OUTCOME_UNKNOWN';
  // The wrong confirmation that used up the change request's tries, or any step after it: a new change request is needed.
  if (CONFIRMATIONS.has(command.operation) && error?.code === 'too_many_wrong_confirmations') return 'CONFIRMATION_ATTEMPTS_EXHAUSTED';
  // Solaris names the card it did not find with model_not_found; another 404 (a wrong base URL) says nothing about the
  // card, nor does one about a change request (the model a confirmation names).
  if (result.kind === 'answered' && result.status === 404 && (error?.code !== 'model_not_found' || CONFIRMATIONS.has(command.operation))) return 'VENDOR_REJECTED';
  return failureReasonFor(result);
}

/** A call that did not succeed: FAILED, with Solaris' status and error (the field it blamed included). */
function failure(command: SolarisCommand, result: VendorCallResult, reason?: FailureReason): Settlement {
  const error = result.kind === 'answered' ? solarisErrorOf(result.body) : undefined;
  const vendorStatus = vendorStatusOf(result);
  return { state: COMMAND_STATES.failed, event: failedEvent(command, reason ?? reasonFor(command, result, error), { status: vendorStatus, error }), vendorStatus };
}

/** Solaris' change request, as far as pinflow reads it: its id ends up in the caller's next URL, so it is held to the path's charset. */
export const changeRequestAnswer = z.object({
  id: changeRequestIdParam,
  status: z.enum(['ACCEPTED', 'AUTHORIZATION_REQUIRED', 'CONFIRMATION_REQUIRED', 'COMPLETED', 'FAILED']),
  /** For device_signing: a challenge for the device, passed on to the caller. */
  string_to_sign: z.string().max(1024).optional(),
});
export type ChangeRequestAnswer = z.infer<typeof changeRequestAnswer>;

export function changeRequestOf(body: string): ChangeRequestAnswer | undefined {
  return changeRequestAnswer.safeParse(parseJsonOrText(body)).data;
}

/**
 * What a change request's state means. COMPLETED: the PIN changed. Waiting for the person: step one is
 * done, and the event names the change request to confirm. FAILED: Solaris gave up on it (expired).
 * ACCEPTED, or an answer that is no change request: Solaris holds something pinflow cannot follow up.
 */
function settleChangeRequest(command: SolarisCommand, result: VendorAnswered): Settlement {
  const changeRequest = changeRequestOf(result.body);
  const vendorStatus = result.status;
  switch (changeRequest?.status) {
    case 'COMPLETED':
      return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordChanged, command, {}), vendorStatus };
    case 'AUTHORIZATION_REQUIRED':
    case 'CONFIRMATION_REQUIRED':
      if (command.operation !== 'change_pin_request') break;
      return {
        state: COMMAND_STATES.succeeded,
        event: commandEvent(EVENT_TYPES.confirmationRequired, command, {
          changeRequestId: changeRequest.id,
          changeRequestStatus: changeRequest.status,
          deliveryMethod: command.deliveryMethod,
          ...(changeRequest.string_to_sign === undefined ? {} : { stringToSign: changeRequest.string_to_sign }),
        }),
        vendorStatus,
      };
    case 'FAILED':
      return failure(command, result, 'VENDOR_REJECTED');
  }
  return failure(command, result, 'OUTCOME_UNKNOWN');
}

/**
 * What Solaris' last answer to a command means. A direct PIN change is made before Solaris answers: a
 * 2xx is final. A change request's answer says by its status.
 */
export function settle(command: SolarisCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failure(command, result);
  if (command.operation === 'change_pin') return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordChanged, command, {}), vendorStatus: result.status };
  return settleChangeRequest(command, result);
}
