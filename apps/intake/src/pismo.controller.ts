import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import { AcceptedResponse, cardIdParam, PismoChangePinBody, pismoChangePinBody, PismoIncreasePasswordTriesBody, pismoIncreasePasswordTriesBody } from './api-schemas';
import { Submissions } from './submissions';

const validCardId = new ZodValidationPipe(cardIdParam, 'card id');

@Controller('v1/pismo/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class PismoController {
  constructor(
    private readonly requests: HttpDoor,
    private readonly submissions: Submissions,
  ) {}

  @Post('pin')
  @HttpCode(202)
  changePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoChangePinBody)) body: PismoChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.pismoChangePin(cardId, body));
  }

  @Post('password-tries/increase')
  @HttpCode(202)
  increasePasswordTries(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoIncreasePasswordTriesBody)) body: PismoIncreasePasswordTriesBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.pismoIncreasePasswordTries(cardId, body));
  }
}
