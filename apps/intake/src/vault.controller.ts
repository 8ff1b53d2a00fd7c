import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import { AcceptedResponse, vaultCardIdParam, VaultSetPasscodeBody, vaultSetPasscodeBody } from './api-schemas';
import { Submissions } from './submissions';

/** Vault card passcodes, set with the one-time code Vault sent the cardholder. */
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
}
