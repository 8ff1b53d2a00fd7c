import { EventData, EVENT_TYPES, VaultCommand } from '@pinflow/contracts';
import {
  COMMAND_STATES,
  commandEvent,
  failedEvent,
  failedSettlement,
  FailureReason,
  failureReasonFor,
  isSuccess,
  Settlement,
  summarizeVendorError,
  VendorCallResult,
  vendorStatusOf,
} from '@pinflow/worker-kit';
import { VaultError, vaultErrorOf } from './vault/vault-errors';

type VendorError = NonNullable<EventData<typeof EVENT_TYPES.failed>['vendorError']>;

/** A request field's name; anything else in `field` is not one, and is dropped rather than relayed. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

/** Vault's error as pinflow reports it: its code, its message (masked and cut as every vendor's) and the field at fault. */
export function vaultErrorSummary({ error, message, field }: VaultError): VendorError {
  const summary: VendorError = summarizeVendorError(JSON.stringify({ code: error, detail: message })) ?? {};
  if (field !== undefined && FIELD_NAME.test(field)) summary.field = field;
  return summary;
}

function failureReason(result: VendorCallResult, { error }: VaultError): FailureReason {
  // Vault documents 400 as its only error status: its own code is what says the card is unknown.
  if (error === 'CARD_NOT_FOUND') return 'CARD_NOT_FOUND';
  return failureReasonFor(result);
}

/** The event each operation succeeds with. A passcode is the card's password at Vault: setting it is what password.changed reports. */
const SUCCESS_EVENT = {
  set_passcode: EVENT_TYPES.passwordChanged,
  send_verification_code: EVENT_TYPES.verificationCodeSent,
  check_verification_code: EVENT_TYPES.verificationCodeChecked,
} as const satisfies Record<VaultCommand['operation'], string>;

/**
 * What Vault's last answer to a command means. CODE_ALREADY_USED is a plain rejection: the kit sends
 * a command again only after attempts Vault surely did not apply, so the code was used by another request.
 */
export function settle(command: VaultCommand, result: VendorCallResult): Settlement {
  if (isSuccess(result)) return { state: COMMAND_STATES.succeeded, event: commandEvent(SUCCESS_EVENT[command.operation], command, {}), vendorStatus: result.status };
  const vaultError = vaultErrorOf(result);
  if (!vaultError) return failedSettlement(command, result);
  const vendorStatus = vendorStatusOf(result);
  const reason = failureReason(result, vaultError);
  return { state: COMMAND_STATES.failed, event: failedEvent(command, reason, { status: vendorStatus, error: vaultErrorSummary(vaultError) }), vendorStatus };
}
