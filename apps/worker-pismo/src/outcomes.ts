import { EVENT_TYPES, PismoCommand } from '@pinflow/contracts';
import { COMMAND_STATES, commandEvent, failedSettlement, isSuccess, parseJsonOrText, Settlement, VendorCallResult } from '@pinflow/worker-kit';
import { z } from 'zod';

/** The part of Pismo's AppendIssuerScriptResponse the event names; the rest of the answer is not relayed. */
const appendedScript = z.looseObject({ card_script_id: z.union([z.string().min(1).max(64), z.number().int()]).transform(String) });

function cardScriptIdOf(body: string): { cardScriptId?: string } {
  const parsed = appendedScript.safeParse(parseJsonOrText(body));
  return parsed.success ? { cardScriptId: parsed.data.card_script_id } : {};
}

/** What Pismo's last answer to a command means. */
export function settle(command: PismoCommand, result: VendorCallResult): Settlement {
  if (!isSuccess(result)) return failedSettlement(command, result);
  switch (command.operation) {
    case 'change_pin':
    case 'update_pin_block':
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
    case 'sync_offline_pin':
      return { state: COMMAND_STATES.succeeded, event: commandEvent(EVENT_TYPES.issuerScriptAppended, command, { scriptType: 'SYNC_PIN' }), vendorStatus: result.status };
    case 'update_offline_pin': {
      const event = commandEvent(EVENT_TYPES.issuerScriptAppended, command, { scriptType: 'PIN_UPDATE', ...cardScriptIdOf(result.body) });
      return { state: COMMAND_STATES.succeeded, event, vendorStatus: result.status };
    }
  }
}
