import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import { AcceptedResponse, cardIdParam, SolarisChangePinBody, solarisChangePinBody } from './api-schemas';
import { Submissions } from './submissions';

/** Solaris PIN changes, relayed as the cardholder's device sealed and signed them (see {@link Submissions.solarisChangePin}). */
@Controller('v1/solaris/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class SolarisController {
  constructor(
    private readonly requests: HttpDoor,
    private readonly submissions: Submissions,
  ) {}

  @Post('pin')
  @HttpCode(202)
  changePin(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card account id')) cardId: string,
    @Body(new ZodValidationPipe(solarisChangePinBody)) body: SolarisChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.solarisChangePin(cardId, body));
  }
}
