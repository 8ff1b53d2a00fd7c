import { EVENT_TYPES, SolarisChangePinCommand } from '@pinflow/contracts';
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
function reasonFor(result: VendorCallResult, error: SolarisErrorSummary | undefined): FailureReason {
  if (result.kind === 'answered' && result.status === 504) return 'OUTCOME_UNKNOWN';
  // Solaris names the card it did not find with model_not_found; another 404 (a wrong base URL) says nothing about the card.
  if (result.kind === 'answered' && result.status === 404 && error?.code !== 'model_not_found') return 'VENDOR_REJECTED';
  return failureReasonFor(result);
}

/** A call that did not succeed: FAILED, with Solaris' status and error (the field it blamed included). */
function failure(command: SolarisChangePinCommand, result: VendorCallResult): Settlement {
  const error = result.kind === 'answered' ? solarisErrorOf(result.body) : undefined;
  const vendorStatus = vendorStatusOf(result);
  return { state: COMMAND_STATES.failed, event: failedEvent(command, reasonFor(result, error), { status: vendorStatus, error }), vendorStatus };
}

/** What Solaris' last answer to a PIN change means. Solaris changes the PIN before it answers: a 2xx is final. */
export function settle(command: SolarisChangePinCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failure(command, result);
  return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordChanged, command, {}), vendorStatus: result.status };
}
