import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { Accepting, type Acceptance, HttpDoor } from './acceptance';
import {
  AcceptedResponse,
  cardIdParam,
  emptyBody,
  PismoChangePinBody,
  pismoChangePinBody,
  PismoIncreasePasswordTriesBody,
  pismoIncreasePasswordTriesBody,
  PismoUpdateOfflinePinBody,
  pismoUpdateOfflinePinBody,
} from './api-schemas';
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

  /** Clears the tries counter; Pismo unblocks a card that exceeding them had blocked. */
  @Post('password-tries/reset')
  @HttpCode(202)
  resetPasswordTries(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.pismoResetPasswordTries(cardId));
  }

  /** Pismo writes the card's current online PIN to its chip at the next contact authorization. */
  @Post('offline-pin/sync')
  @HttpCode(202)
  syncOfflinePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.pismoSyncOfflinePin(cardId));
  }

  /** Pismo writes this PIN to the card's chip at the next contact authorization; the online PIN stays. */
  @Post('offline-pin')
  @HttpCode(202)
  updateOfflinePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoUpdateOfflinePinBody)) body: PismoUpdateOfflinePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    return this.requests.accept(acceptance, this.submissions.pismoUpdateOfflinePin(cardId, body));
  }
}
