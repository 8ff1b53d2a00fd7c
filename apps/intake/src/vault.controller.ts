import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import {
  AcceptedResponse,
  emptyBody,
  vaultCardIdParam,
  VaultCheckVerificationCodeBody,
  vaultCheckVerificationCodeBody,
  VaultSetPasscodeBody,
  vaultSetPasscodeBody,
} from './api-schemas';
import { Submissions } from './submissions';

/** Vault card passcodes, set with the one-time code Vault sent the cardholder (which pinflow can ask for, and check). */
@Controller('v1/vault/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class VaultController {
  constructor(
    private readonly requests: HttpDoor,
    private readonly submissions: Submissions,
  ) {}

  @Post('passcode')
  @HttpCode(202)
  setPasscode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(vaultSetPasscodeBody)) body: VaultSetPasscodeBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.vaultSetPasscode(cardId, body));
  }

  /** Vault's SMS step: Vault texts the cardholder a new one-time code, replacing any earlier one. */
  @Post('verification-code')
  @HttpCode(202)
  sendVerificationCode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.vaultSendVerificationCode(cardId));
  }

  /** Checks the code the cardholder typed without using it up, so a wrong one is caught before the passcode is sent. */
  @Post('verification-code/check')
  @HttpCode(202)
  checkVerificationCode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(vaultCheckVerificationCodeBody)) body: VaultCheckVerificationCodeBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.vaultCheckVerificationCode(cardId, body));
  }
}
