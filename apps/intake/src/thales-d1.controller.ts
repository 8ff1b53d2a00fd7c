import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import { AcceptedResponse, thalesD1CardIdParam, ThalesD1ChangePinBody, thalesD1ChangePinBody, thalesD1IssuerIdParam } from './api-schemas';
import { Submissions } from './submissions';

/** PINs for a card management system that speaks Thales D1's PIN Management API. */
@Controller('v1/thales-d1/issuers/:issuerId/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class ThalesD1Controller {
  constructor(
    private readonly requests: HttpDoor,
    private readonly submissions: Submissions,
  ) {}

  @Post('pin')
  @HttpCode(202)
  changePin(
    @Param('issuerId', new ZodValidationPipe(thalesD1IssuerIdParam, 'issuer id')) issuerId: string,
    @Param('cardId', new ZodValidationPipe(thalesD1CardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(thalesD1ChangePinBody)) body: ThalesD1ChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.thalesD1ChangePin(issuerId, cardId, body));
  }
}
