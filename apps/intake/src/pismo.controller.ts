import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { Principal, PIN_WRITE_SCOPE, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { PinKeyRing } from '@pinflow/pin-crypto';
import { PISMO_PIN_RULES } from '@pinflow/pin-policy';
import type { Response } from 'express';
import { AcceptedResponse, cardIdParam, PismoChangePinBody, pismoChangePinBody, PismoIncreasePasswordTriesBody, pismoIncreasePasswordTriesBody } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { IdempotencyKey } from './idempotency-key.decorator';
import { answerAccepted, RequestsService } from './requests.service';
import { sealSecret } from './secrets';

@Controller('v1/pismo/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class PismoController {
  constructor(
    private readonly requests: RequestsService,
    private readonly keyRing: PinKeyRing,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  @Post('pin')
  @HttpCode(202)
  async changePin(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(pismoChangePinBody)) body: PismoChangePinBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Principal() principal: AuthenticatedPrincipal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptedResponse> {
    const result = await this.requests.submit({
      principal,
      idempotencyKey,
      // A clear PIN never enters the fingerprint; an encrypted one does, as the opaque text it is.
      fingerprintSource: { vendor: 'pismo', operation: 'change_pin', cardId, syncOfflinePin: body.syncOfflinePin, encryptedPin: body.encryptedPin ?? null },
      draft: async () => ({
        vendor: 'pismo',
        operation: 'change_pin',
        cardId,
        syncOfflinePin: body.syncOfflinePin,
        encryptedPin: await sealSecret('pin', { encrypted: body.encryptedPin, clear: body.pin }, this.keyRing, {
          allowPlaintext: this.config.INTAKE_ALLOW_PLAINTEXT_PIN,
          rules: PISMO_PIN_RULES,
        }),
      }),
    });
    return answerAccepted(result, response);
  }

  @Post('password-tries/increase')
  @HttpCode(202)
  async increasePasswordTries(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(pismoIncreasePasswordTriesBody)) body: PismoIncreasePasswordTriesBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Principal() principal: AuthenticatedPrincipal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptedResponse> {
    const result = await this.requests.submit({
      principal,
      idempotencyKey,
      fingerprintSource: { vendor: 'pismo', operation: 'increase_password_tries', cardId, blockCardExceedsCounter: body.blockCardExceedsCounter },
      draft: async () => ({ vendor: 'pismo', operation: 'increase_password_tries', cardId, blockCardExceedsCounter: body.blockCardExceedsCounter }),
    });
    return answerAccepted(result, response);
  }
}
