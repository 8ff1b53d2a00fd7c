import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { Principal, PIN_WRITE_SCOPE, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import type { Response } from 'express';
import { AcceptedResponse, cardIdParam, SolarisChangePinBody, solarisChangePinBody } from './api-schemas';
import { IdempotencyKey } from './idempotency-key.decorator';
import { answerAccepted, RequestsService } from './requests.service';

/**
 * Solaris PIN changes. The cardholder's device encrypted the PIN to Solaris' key and signed it with
 * its device-binding key; pinflow relays both untouched. It cannot read the PIN, so Solaris' PIN
 * rules are Solaris' to enforce: their rejections come back as failure events.
 */
@Controller('v1/solaris/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class SolarisController {
  constructor(private readonly requests: RequestsService) {}

  @Post('pin')
  @HttpCode(202)
  async changePin(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card account id')) cardId: string,
    @Body(new ZodValidationPipe(solarisChangePinBody)) body: SolarisChangePinBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Principal() principal: AuthenticatedPrincipal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'solaris' as const, operation: 'change_pin' as const, cardId, ...body };
    const result = await this.requests.submit({
      principal,
      idempotencyKey,
      fingerprintSource: command,
      draft: async () => command,
    });
    return answerAccepted(result, response);
  }
}
