import { Inject, Injectable } from '@nestjs/common';
import type { SolarisChangePinRequestCommand, SolarisCommand } from '@pinflow/contracts';
import { COMMAND_KEYS, decryptSecret, type DecryptionKeys } from '@pinflow/pin-crypto';
import { isSuccess, type OutcomeCheck, type VendorAdapter, type VendorCall, type VendorCallResult } from '@pinflow/worker-kit';
import { changeRequestOf, settle } from './outcomes';
import { pinUpdateRequestOf, SolarisClient } from './solaris/solaris-client';

/** A gateway's 504 is a call whose outcome is unknown, as a timeout is: the kit then asks the change request. */
function gatewayTimeoutAsTimeout(result: VendorCallResult): VendorCallResult {
  return result.kind === 'answered' && result.status === 504 ? { kind: 'unreachable', cause: 'timeout' } : result;
}

/**
 * Solaris' part of running a command. The PIN needs no decrypting: the cardholder's device encrypted
 * it to Solaris' key and signed the JWE, and the worker relays both as they came. The TAN that
 * confirms a change request arrives sealed to the worker's command key, bound to the command, and is decrypted for the call alone.
 * Device-made values and the TAN live in the call's closure only, never in a log line, an error or
 * `details`.
 */
@Injectable()
export class SolarisAdapter implements VendorAdapter<SolarisCommand> {
  readonly settle = settle;

  constructor(
    private readonly solaris: SolarisClient,
    @Inject(COMMAND_KEYS) private readonly commandKeys: DecryptionKeys,
  ) {}

  async prepare(command: SolarisCommand): Promise<VendorCall> {
    switch (command.operation) {
      case 'change_pin': {
        const body = pinUpdateRequestOf(command);
        return () => this.solaris.requestPinUpdate(command.cardId, body);
      }
      case 'change_pin_request':
        return this.requestChange(command);
      case 'confirm_change_request': {
        const tan = await decryptSecret('oneTimeCode', command.encryptedTan, this.commandKeys, command);
        return async () => gatewayTimeoutAsTimeout(await this.solaris.confirmChangeRequest(command.changeRequestId, { person_id: command.personId, tan }));
      }
      case 'sign_change_request': {
        const body = { person_id: command.personId, device_signature: { signature: command.signature } };
        return async () => gatewayTimeoutAsTimeout(await this.solaris.confirmChangeRequest(command.changeRequestId, body));
      }
    }
  }

  /**
   * A confirmation (TAN or signature) whose answer was lost is settled by the change request itself: COMPLETED, the PIN
   * changed; still waiting for confirmation, nothing happened and confirming again is safe.
   */
  async checkOutcome(command: SolarisCommand): Promise<OutcomeCheck> {
    if (command.operation !== 'confirm_change_request' && command.operation !== 'sign_change_request') return { outcome: 'unknown' };
    const result = await this.solaris.changeRequest(command.changeRequestId);
    const status = isSuccess(result) ? changeRequestOf(result.body)?.status : undefined;
    if (status === 'COMPLETED') return { outcome: 'applied', result };
    return status === 'CONFIRMATION_REQUIRED' ? { outcome: 'not_applied' } : { outcome: 'unknown' };
  }

  /**
   * Creates the change request and authorizes it, so Solaris texts the TAN or hands the string the
   * device that made the PIN is to sign. The change request is
   * created once per command: an attempt after a failed authorization authorizes the one already made
   * rather than leaving it behind for a second. (A change request left by a crash holds nothing: it
   * expires unconfirmed.)
   */
  private requestChange(command: SolarisChangePinRequestCommand): VendorCall {
    const body = pinUpdateRequestOf(command);
    let created: string | undefined;
    return async () => {
      if (created === undefined) {
        const result = await this.solaris.requestScaPinUpdate(command.cardId, body);
        const changeRequest = isSuccess(result) ? changeRequestOf(result.body) : undefined;
        // Anything else is the outcome: a refusal, or a change request that needs no authorizing.
        if (changeRequest?.status !== 'AUTHORIZATION_REQUIRED') return result;
        created = changeRequest.id;
      }
      const device = command.deliveryMethod === 'device_signing' ? { device_id: command.deviceId } : {};
      return this.solaris.authorizeChangeRequest(created, { person_id: command.personId, delivery_method: command.deliveryMethod, ...device });
    };
  }
}
