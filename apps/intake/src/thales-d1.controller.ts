import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { Principal, PIN_WRITE_SCOPE, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { PinKeyRing } from '@pinflow/pin-crypto';
import { THALES_D1_PIN_RULES } from '@pinflow/pin-policy';
import type { Response } from 'express';
import { AcceptedResponse, thalesD1CardIdParam, ThalesD1ChangePinBody, thalesD1ChangePinBody, thalesD1IssuerIdParam } from './api-schemas';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { IdempotencyKey } from './idempotency-key.decorator';
import { answerAccepted, RequestsService } from './requests.service';
import { sealSecret } from './secrets';

/** PINs for a card management system that speaks Thales D1's PIN Management API. */
@Controller('v1/thales-d1/issuers/:issuerId/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class ThalesD1Controller {
  constructor(
    private readonly requests: RequestsService,
    private readonly keyRing: PinKeyRing,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  @Post('pin')
  @HttpCode(202)
  async changePin(
    @Param('issuerId', new ZodValidationPipe(thalesD1IssuerIdParam, 'issuer id')) issuerId: string,
    @Param('cardId', new ZodValidationPipe(thalesD1CardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(thalesD1ChangePinBody)) body: ThalesD1ChangePinBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Principal() principal: AuthenticatedPrincipal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptedResponse> {
    const allowPlaintext = this.config.INTAKE_ALLOW_PLAINTEXT_PIN;
    const result = await this.requests.submit({
      principal,
      idempotencyKey,
      fingerprintSource: {
        vendor: 'thales-d1',
        operation: 'change_pin',
        issuerId,
        cardId,
        pinBlockFormat: body.pinBlockFormat,
        encryptedPin: body.encryptedPin ?? null,
        encryptedPan: body.encryptedPan ?? null,
      },
      draft: async () => ({
        vendor: 'thales-d1',
        operation: 'change_pin',
        issuerId,
        cardId,
        pinBlockFormat: body.pinBlockFormat,
        encryptedPin: await sealSecret('pin', { encrypted: body.encryptedPin, clear: body.pin }, this.keyRing, { allowPlaintext, rules: THALES_D1_PIN_RULES }),
        // The PAN goes into the ISO 9564 format-0 PIN block the worker builds: it travels like the PIN.
        encryptedPan: await sealSecret('pan', { encrypted: body.encryptedPan, clear: body.pan }, this.keyRing, { allowPlaintext }),
      }),
    });
    return answerAccepted(result, response);
  }
}
