import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { PIN_WRITE_SCOPE, RequireScopes } from '@pinflow/auth';
import { ZodValidationPipe } from '@pinflow/http';
import { PISMO_PIN_RULES } from '@pinflow/pin-policy';
import { Accepting, type Acceptance } from './acceptance';
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
import { RequestsService } from './requests.service';
import { SecretSealer } from './secrets';

const validCardId = new ZodValidationPipe(cardIdParam, 'card id');

@Controller('v1/pismo/cards/:cardId')
@RequireScopes(PIN_WRITE_SCOPE)
export class PismoController {
  constructor(
    private readonly requests: RequestsService,
    private readonly secrets: SecretSealer,
  ) {}

  @Post('pin')
  @HttpCode(202)
  changePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoChangePinBody)) body: PismoChangePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const { syncOfflinePin } = body;
    return this.requests.accept(acceptance, {
      fingerprintSource: { vendor: 'pismo', operation: 'change_pin', cardId, syncOfflinePin, encryptedPin: body.encryptedPin ?? null },
      draft: async () => ({
        vendor: 'pismo',
        operation: 'change_pin',
        cardId,
        syncOfflinePin,
        encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, PISMO_PIN_RULES),
      }),
    });
  }

  @Post('password-tries/increase')
  @HttpCode(202)
  increasePasswordTries(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoIncreasePasswordTriesBody)) body: PismoIncreasePasswordTriesBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'pismo' as const, operation: 'increase_password_tries' as const, cardId, blockCardExceedsCounter: body.blockCardExceedsCounter };
    return this.requests.accept(acceptance, { fingerprintSource: command, draft: async () => command });
  }

  /** Clears the tries counter; Pismo unblocks a card that exceeding them had blocked. */
  @Post('password-tries/reset')
  @HttpCode(202)
  resetPasswordTries(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'pismo' as const, operation: 'reset_password_tries' as const, cardId };
    return this.requests.accept(acceptance, { fingerprintSource: command, draft: async () => command });
  }

  /** Pismo writes the card's current online PIN to its chip at the next contact authorization. */
  @Post('offline-pin/sync')
  @HttpCode(202)
  syncOfflinePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(emptyBody)) _body: unknown,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const command = { vendor: 'pismo' as const, operation: 'sync_offline_pin' as const, cardId };
    return this.requests.accept(acceptance, { fingerprintSource: command, draft: async () => command });
  }

  /** Pismo writes this PIN to the card's chip at the next contact authorization; the online PIN stays. */
  @Post('offline-pin')
  @HttpCode(202)
  updateOfflinePin(
    @Param('cardId', validCardId) cardId: string,
    @Body(new ZodValidationPipe(pismoUpdateOfflinePinBody)) body: PismoUpdateOfflinePinBody,
    @Accepting() acceptance: Acceptance,
  ): Promise<AcceptedResponse> {
    const identity = { vendor: 'pismo' as const, operation: 'update_offline_pin' as const, cardId, scriptId: body.scriptId, accountId: body.accountId };
    return this.requests.accept(acceptance, {
      fingerprintSource: { ...identity, encryptedPin: body.encryptedPin ?? null },
      draft: async () => ({ ...identity, encryptedPin: await this.secrets.seal('pin', { encrypted: body.encryptedPin, clear: body.pin }, PISMO_PIN_RULES) }),
    });
  }
}
