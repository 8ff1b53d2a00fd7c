import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { Principal, PIN_WRITE_SCOPE, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { PinKeyRing } from '@pinflow/pin-crypto';
import { ZodValidationPipe } from '@pinflow/http';
import type { Response } from 'express';
import {
  AcceptedResponse,
  cardIdParam,
  PismoChangePinBody,
  pismoChangePinBody,
  PismoIncreasePasswordTriesBody,
  pismoIncreasePasswordTriesBody,
} from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { IdempotencyKey } from './idempotency-key.decorator';
import { sealPin, VENDOR_PIN_RULES } from './pin-secret';
import { RequestsService } from './requests.service';

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
        encryptedPin: await sealPin(body, VENDOR_PIN_RULES.pismo, this.keyRing, this.config.INTAKE_ALLOW_PLAINTEXT_PIN),
      }),
    });
    return this.answer(result, response);
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
    return this.answer(result, response);
  }

  private answer(result: { response: AcceptedResponse; replayed: boolean }, response: Response): AcceptedResponse {
    response.location(result.response.statusUrl);
    // IETF idempotency-key draft: tell the client this answer is the stored one.
    if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
    return result.response;
  }
}
