import { EVENT_TYPES, ThalesD1ChangePinCommand } from '@pinflow/contracts';
import { COMMAND_STATES, commandEvent, failedSettlement, isSuccess, Settlement, VendorCallResult } from '@pinflow/worker-kit';

/**
 * What the CMS's last answer to a PIN change means: its 204 is the PIN changed, and so is the counter
 * read (200) that found a timed-out PUT applied. A failure keeps the CMS's `errorCode` as
 * `vendorError.code`; its reason follows HTTP (404 CARD_NOT_FOUND, 5xx or no answer VENDOR_UNAVAILABLE
 * once the retries are spent, other 4xx VENDOR_REJECTED), since the CMS's codes, which D1 does not
 * publish, say nothing HTTP does not.
 */
export function settle(command: ThalesD1ChangePinCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failedSettlement(command, result);
  return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordChanged, command, {}), vendorStatus: result.status };
}
