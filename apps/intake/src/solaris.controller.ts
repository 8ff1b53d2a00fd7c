import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance } from './acceptance';
import { AcceptedResponse, cardIdParam, SolarisChangePinBody, solarisChangePinBody } from './api-schemas';
import { RequestsService } from './requests.service';

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
  changePin(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card account id')) cardId: string,
    @Body(new ZodValidationPipe(solarisChangePinBody)) body: SolarisChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'solaris' as const, operation: 'change_pin' as const, cardId, ...body };
    return this.requests.accept(acceptance, { fingerprintSource: command, draft: async () => command });
  }
}
