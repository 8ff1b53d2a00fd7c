import { Injectable } from '@nestjs/common';
import type { PinflowRequest, RequestType } from '@pinflow/contracts';
import { PISMO_PIN_RULES, THALES_D1_PAN_RULES, THALES_D1_PIN_RULES, VAULT_PIN_RULES } from '@pinflow/pin-policy';
import type {
  PismoChangePinBody,
  PismoIncreasePasswordTriesBody,
  PismoUpdateOfflinePinBody,
  SolarisChangePinBody,
  ThalesD1ChangePinBody,
  VaultCheckVerificationCodeBody,
  VaultSetPasscodeBody,
} from './api-schemas';
import type { Submission } from './requests.service';
import { SecretSealer } from './secrets';

/**
 * What each vendor's requests become, from a validated path and body, whichever door they came
 * through: the HTTP controllers and the Kafka door both build their submissions here.
 */
@Injectable()
export class Submissions {
  constructor(private readonly secrets: SecretSealer) {}

  pismoChangePin(cardId: string, body: PismoChangePinBody): Submission {
    const { syncOfflinePin } = body;
    return {
      fingerprintSource: { vendor: 'pismo', operation: 'change_pin', cardId, syncOfflinePin, encryptedPin: body.encryptedPin ?? null },
      draft: async () => ({
        vendor: 'pismo',
        operation: 'change_pin',
        cardId,
        syncOfflinePin,
        encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, PISMO_PIN_RULES),
      }),
    };
  }

  pismoIncreasePasswordTries(cardId: string, body: PismoIncreasePasswordTriesBody): Submission {
    const command = { vendor: 'pismo' as const, operation: 'increase_password_tries' as const, cardId, blockCardExceedsCounter: body.blockCardExceedsCounter };
    return { fingerprintSource: command, draft: async () => command };
  }

  /** Clears the tries counter; Pismo unblocks a card that exceeding them had blocked. */
  pismoResetPasswordTries(cardId: string): Submission {
    const command = { vendor: 'pismo' as const, operation: 'reset_password_tries' as const, cardId };
    return { fingerprintSource: command, draft: async () => command };
  }

  /** Pismo writes the card's current online PIN to its chip at the next contact authorization. */
  pismoSyncOfflinePin(cardId: string): Submission {
    const command = { vendor: 'pismo' as const, operation: 'sync_offline_pin' as const, cardId };
    return { fingerprintSource: command, draft: async () => command };
  }

  /** Pismo writes this PIN to the card's chip at the next contact authorization; the online PIN stays. */
  pismoUpdateOfflinePin(cardId: string, body: PismoUpdateOfflinePinBody): Submission {
    const identity = { vendor: 'pismo' as const, operation: 'update_offline_pin' as const, cardId, scriptId: body.scriptId, accountId: body.accountId };
    return {
      fingerprintSource: { ...identity, encryptedPin: body.encryptedPin ?? null },
      draft: async () => ({ ...identity, encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, PISMO_PIN_RULES) }),
    };
  }

  /**
   * The cardholder's device encrypted the PIN to Solaris' key and signed it with its device-binding
   * key; pinflow relays both untouched. It cannot read the PIN, so Solaris' PIN rules are Solaris'
   * to enforce: their rejections come back as failure events.
   */
  solarisChangePin(cardId: string, body: SolarisChangePinBody): Submission {
    const command = { vendor: 'solaris' as const, operation: 'change_pin' as const, cardId, ...body };
    return { fingerprintSource: command, draft: async () => command };
  }

  thalesD1ChangePin(issuerId: string, cardId: string, body: ThalesD1ChangePinBody): Submission {
    const identity = { vendor: 'thales-d1' as const, operation: 'change_pin' as const, issuerId, cardId, pinBlockFormat: body.pinBlockFormat };
    return {
      fingerprintSource: { ...identity, encryptedPin: body.encryptedPin ?? null, encryptedPan: body.encryptedPan ?? null },
      draft: async () => ({
        ...identity,
        encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, THALES_D1_PIN_RULES),
        // The PAN goes into the ISO 9564 format-0 PIN block the worker builds: it travels like the PIN.
        encryptedPan: await this.secrets.sealPan({ encrypted: body.encryptedPan, clear: body.pan }, THALES_D1_PAN_RULES),
      }),
    };
  }

  vaultSetPasscode(cardId: string, body: VaultSetPasscodeBody): Submission {
    const identity = { vendor: 'vault' as const, operation: 'set_passcode' as const, cardId };
    return {
      fingerprintSource: { ...identity, encryptedPasscode: body.encryptedPasscode ?? null, encryptedCode: body.encryptedCode ?? null },
      draft: async () => ({
        ...identity,
        encryptedPasscode: await this.secrets.seal('passcode', { encrypted: body.encryptedPasscode, clear: body.passcode }, VAULT_PIN_RULES),
        encryptedCode: await this.secrets.seal('oneTimeCode', { encrypted: body.encryptedCode, clear: body.code }),
      }),
    };
  }

  /** Vault's SMS step: Vault texts the cardholder a new one-time code, replacing any earlier one. */
  vaultSendVerificationCode(cardId: string): Submission {
    const command = { vendor: 'vault' as const, operation: 'send_verification_code' as const, cardId };
    return { fingerprintSource: command, draft: async () => command };
  }

  /** Checks the code the cardholder typed without using it up. */
  vaultCheckVerificationCode(cardId: string, body: VaultCheckVerificationCodeBody): Submission {
    const identity = { vendor: 'vault' as const, operation: 'check_verification_code' as const, cardId };
    return {
      // A clear code stays out of the stored fingerprint: hashed, a six-digit code is read back in a blink.
      fingerprintSource: { ...identity, encryptedCode: body.encryptedCode ?? null },
      draft: async () => ({ ...identity, encryptedCode: await this.secrets.seal('oneTimeCode', { encrypted: body.encryptedCode, clear: body.code }) }),
    };
  }

  /** A request from the Kafka door, which carries the same path parameters and body. */
  of(request: PinflowRequest): Submission {
    const build = this.byType[`${request.vendor}.${request.operation}` as RequestType] as (request: PinflowRequest) => Submission;
    return build(request);
  }

  private readonly byType: { [T in RequestType]: (request: PinflowRequest<T>) => Submission } = {
    'pismo.change_pin': (request) => this.pismoChangePin(request.cardId, request.body),
    'pismo.increase_password_tries': (request) => this.pismoIncreasePasswordTries(request.cardId, request.body),
    'pismo.reset_password_tries': (request) => this.pismoResetPasswordTries(request.cardId),
    'pismo.sync_offline_pin': (request) => this.pismoSyncOfflinePin(request.cardId),
    'pismo.update_offline_pin': (request) => this.pismoUpdateOfflinePin(request.cardId, request.body),
    'solaris.change_pin': (request) => this.solarisChangePin(request.cardId, request.body),
    'thales-d1.change_pin': (request) => this.thalesD1ChangePin(request.issuerId, request.cardId, request.body),
    'vault.set_passcode': (request) => this.vaultSetPasscode(request.cardId, request.body),
    'vault.send_verification_code': (request) => this.vaultSendVerificationCode(request.cardId),
    'vault.check_verification_code': (request) => this.vaultCheckVerificationCode(request.cardId, request.body),
  };
}
