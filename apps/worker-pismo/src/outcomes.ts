import { EVENT_TYPES, PismoCommand } from '@pinflow/contracts';
import { COMMAND_STATES, commandEvent, failedSettlement, isSuccess, Settlement, VendorCallResult } from '@pinflow/worker-kit';
import { correlationIdFromCardUpdated } from './pismo/vendor-response';

/** What Pismo's last answer to a command means. */
export function settle(command: PismoCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failedSettlement(command, result);
  if (command.operation === 'change_pin') {
    // Pismo's update_password-1 event tells how the change ended. It carries the cid from Pismo's
    // answer, which normally echoes the x-cid we sent.
    const correlationId = correlationIdFromCardUpdated(result.body) ?? command.commandId;
    return { state: COMMAND_STATES.awaitingVendorEvent, correlationId, vendorStatus: result.status };
  }
  const event = commandEvent(EVENT_TYPES.passwordTriesIncreased, command, { blockCardExceedsCounter: command.blockCardExceedsCounter });
  return { state: COMMAND_STATES.succeeded, event, vendorStatus: result.status };
}
