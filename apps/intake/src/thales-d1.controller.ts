import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { THALES_D1_PAN_RULES, THALES_D1_PIN_RULES } from '@pinflow/pin-policy';
import { Accepting, type Acceptance } from './acceptance';
import { AcceptedResponse, thalesD1CardIdParam, ThalesD1ChangePinBody, thalesD1ChangePinBody, thalesD1IssuerIdParam } from './api-schemas';
import { RequestsService } from './requests.service';
import { SecretSealer } from './secrets';

/** PINs for a card management system that speaks Thales D1's PIN Management API. */
@Controller('v1/thales-d1/issuers/:issuerId/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class ThalesD1Controller {
  constructor(
    private readonly requests: RequestsService,
    private readonly secrets: SecretSealer,
  ) {}

  @Post('pin')
  @HttpCode(202)
  changePin(
    @Param('issuerId', new ZodValidationPipe(thalesD1IssuerIdParam, 'issuer id')) issuerId: string,
    @Param('cardId', new ZodValidationPipe(thalesD1CardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(thalesD1ChangePinBody)) body: ThalesD1ChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const identity = { vendor: 'thales-d1' as const, operation: 'change_pin' as const, issuerId, cardId, pinBlockFormat: body.pinBlockFormat };
    return this.requests.accept(acceptance, {
      fingerprintSource: { ...identity, encryptedPin: body.encryptedPin ?? null, encryptedPan: body.encryptedPan ?? null },
      draft: async () => ({
        ...identity,
        encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, THALES_D1_PIN_RULES),
        // The PAN goes into the ISO 9564 format-0 PIN block the worker builds: it travels like the PIN.
        encryptedPan: await this.secrets.sealPan({ encrypted: body.encryptedPan, clear: body.pan }, THALES_D1_PAN_RULES),
      }),
    });
  }
}
