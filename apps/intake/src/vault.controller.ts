import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { Principal, PIN_WRITE_SCOPE, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { PinKeyRing } from '@pinflow/pin-crypto';
import { VAULT_PIN_RULES } from '@pinflow/pin-policy';
import type { Response } from 'express';
import { AcceptedResponse, vaultCardIdParam, VaultSetPasscodeBody, vaultSetPasscodeBody } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { IdempotencyKey } from './idempotency-key.decorator';
import { answerAccepted, RequestsService } from './requests.service';
import { sealSecret } from './secrets';

/** Vault card passcodes, set with the one-time code Vault sent the cardholder. */
@Controller('v1/vault/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class VaultController {
  constructor(
    private readonly requests: RequestsService,
    private readonly keyRing: PinKeyRing,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  @Post('passcode')
  @HttpCode(202)
  async setPasscode(
    @Param('cardId', new ZodValidationPipe(vaultCardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(vaultSetPasscodeBody)) body: VaultSetPasscodeBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Principal() principal: AuthenticatedPrincipal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptedResponse> {
    const allowPlaintext = this.config.INTAKE_ALLOW_PLAINTEXT_PIN;
    const result = await this.requests.submit({
      principal,
      idempotencyKey,
      fingerprintSource: { vendor: 'vault', operation: 'set_passcode', cardId, encryptedPasscode: body.encryptedPasscode ?? null, encryptedCode: body.encryptedCode ?? null },
      draft: async () => ({
        vendor: 'vault',
        operation: 'set_passcode',
        cardId,
        encryptedPasscode: await sealSecret('passcode', { encrypted: body.encryptedPasscode, clear: body.passcode }, this.keyRing, { allowPlaintext, rules: VAULT_PIN_RULES }),
        encryptedCode: await sealSecret('oneTimeCode', { encrypted: body.encryptedCode, clear: body.code }, this.keyRing, { allowPlaintext }),
      }),
    });
    return answerAccepted(result, response);
  }
}
