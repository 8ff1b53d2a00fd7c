import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { VAULT_PIN_RULES } from '@pinflow/pin-policy';
import { Accepting, type Acceptance } from './acceptance';
import {
  AcceptedResponse,
  emptyBody,
  vaultCardIdParam,
  VaultCheckVerificationCodeBody,
  vaultCheckVerificationCodeBody,
  VaultSetPasscodeBody,
  vaultSetPasscodeBody,
} from './api-schemas';
import { RequestsService } from './requests.service';
import { SecretSealer } from './secrets';

/** Vault card passcodes, set with the one-time code Vault sent the cardholder (which pinflow can ask for, and check). */
@Controller('v1/vault/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class VaultController {
  constructor(
    private readonly requests: RequestsService,
    private readonly secrets: SecretSealer,
  ) {}

  @Post('passcode')
  @HttpCode(202)
  setPasscode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(vaultSetPasscodeBody)) body: VaultSetPasscodeBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const identity = { vendor: 'vault' as const, operation: 'set_passcode' as const, cardId };
    return this.requests.accept(acceptance, {
      fingerprintSource: { ...identity, encryptedPasscode: body.encryptedPasscode ?? null, encryptedCode: body.encryptedCode ?? null },
      draft: async () => ({
        ...identity,
        encryptedPasscode: await this.secrets.seal('passcode', { encrypted: body.encryptedPasscode, clear: body.passcode }, VAULT_PIN_RULES),
        encryptedCode: await this.secrets.seal('oneTimeCode', { encrypted: body.encryptedCode, clear: body.code }),
      }),
    });
  }

  /** Vault's SMS step: Vault texts the cardholder a new one-time code, replacing any earlier one. */
  @Post('verification-code')
  @HttpCode(202)
  sendVerificationCode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'vault' as const, operation: 'send_verification_code' as const, cardId };
    return this.requests.accept(acceptance, { fingerprintSource: command, draft: async () => command });
  }

  /** Checks the code the cardholder typed without using it up, so a wrong one is caught before the passcode is sent. */
  @Post('verification-code/check')
  @HttpCode(202)
  checkVerificationCode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(vaultCheckVerificationCodeBody)) body: VaultCheckVerificationCodeBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const identity = { vendor: 'vault' as const, operation: 'check_verification_code' as const, cardId };
    return this.requests.accept(acceptance, {
      // A clear code stays out of the stored fingerprint: hashed, a six-digit code is read back in a blink.
      fingerprintSource: { ...identity, encryptedCode: body.encryptedCode ?? null },
      draft: async () => ({ ...identity, encryptedCode: await this.secrets.seal('oneTimeCode', { encrypted: body.encryptedCode, clear: body.code }) }),
    });
  }
}
