import { EVENT_TYPES, PismoCommand } from '@pinflow/contracts';
import { COMMAND_STATES, commandEvent, failedSettlement, isSuccess, Settlement, VendorCallResult } from '@pinflow/worker-kit';

/** What Pismo's last answer to a command means. */
export function settle(command: PismoCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failedSettlement(command, result);
  switch (command.operation) {
    case 'change_pin':
      // Pismo's update_password-1 event tells how the change ended, under the x-cid the call sent (the
      // command id). The answer's `"[<cid>] Card updated"` is informational: Pismo's own spec example,
      // `[:correlationId]`, shows that a gateway or mock may fill it with anything.
      return { state: COMMAND_STATES.awaitingVendorEvent, correlationId: command.commandId, vendorStatus: result.status };
    case 'increase_password_tries': {
      const event = commandEvent(EVENT_TYPES.passwordTriesIncreased, command, { blockCardExceedsCounter: command.blockCardExceedsCounter });
      return { state: COMMAND_STATES.succeeded, event, vendorStatus: result.status };
    }
    case 'reset_password_tries':
      return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.passwordTriesReset, command, {}), vendorStatus: result.status };
  }
}
