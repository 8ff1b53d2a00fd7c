import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { VAULT_PIN_RULES } from '@pinflow/pin-policy';
import { Accepting, type Acceptance } from './acceptance';
import { AcceptedResponse, vaultCardIdParam, VaultSetPasscodeBody, vaultSetPasscodeBody } from './api-schemas';
import { RequestsService } from './requests.service';
import { SecretSealer } from './secrets';

/** Vault card passcodes, set with the one-time code Vault sent the cardholder. */
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
}
