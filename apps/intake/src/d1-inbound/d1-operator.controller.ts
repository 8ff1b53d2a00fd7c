import { Body, Controller, HttpCode, Logger, Post } from '@nestjs/common';
import { OPERATOR_SCOPE, Principal, RequireScopes, type AuthenticatedPrincipal } from '@pinflow/auth';
import { cardId } from '@pinflow/contracts';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { z } from 'zod';
import { D1ChangeCounters, type PushSettlement } from './change-counters';

export const pushSettlementRequest = z.strictObject({
  issuerId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -'),
  cardId,
  /** The push's command, as its dead letter and request name it: the one the operator found the outcome of. */
  commandId: z.uuid({ error: 'must be the command id (UUID) of the push in flight' }),
  /** Whether the processor applied the change (found out at the processor): the counter moves on by one, or stays. */
  succeeded: z.boolean(),
});
export type PushSettlementRequest = z.output<typeof pushSettlementRequest>;

/**
 * What only operators may do to the D1 door: settle a push whose outcome is unknown (OUTCOME_UNKNOWN),
 * which holds its card (D1 gets 409 PIN_CHANGE_IN_PROGRESS) until someone has found out at the processor
 * whether the PIN changed. `npm run ops -- d1-settle` knocks here.
 */
@Controller('v1/operator/d1')
@RequireScopes(OPERATOR_SCOPE)
export class D1OperatorController {
  private readonly logger = new Logger('ThalesD1Operator');

  constructor(private readonly counters: D1ChangeCounters) {}

  @Post('push-settlements')
  @HttpCode(200)
  async settle(
    @Body(new ZodValidationPipe(pushSettlementRequest)) request: PushSettlementRequest,
    @Principal() principal: AuthenticatedPrincipal,
  ): Promise<PushSettlement> {
    const { issuerId, cardId: card, commandId, succeeded } = request;
    const outcome = await this.counters.settleByOperator(issuerId, card, commandId, succeeded, principal.subject);
    if ('refused' in outcome) {
      switch (outcome.refused) {
        case 'NO_PUSH_IN_FLIGHT':
          throw new ProblemException(409, 'D1_NO_PUSH_IN_FLIGHT', 'No push in flight', `Card ${card} of issuer ${issuerId} holds no push, and command ${commandId} was never settled by an operator: its outcome event settled it, or it was never a push to this card.`);
        case 'ANOTHER_PUSH_IN_FLIGHT':
          throw new ProblemException(409, 'D1_ANOTHER_PUSH_IN_FLIGHT', 'Another push in flight', `Card ${card} of issuer ${issuerId} holds the push of command ${outcome.inFlightCommandId}, not ${commandId}: find out that push's outcome before settling it.`, {
            inFlightCommandId: outcome.inFlightCommandId,
          });
        case 'SETTLED_OTHERWISE': {
          const { settledBy, settledAt, succeeded: settledSucceeded } = outcome.settlement;
          throw new ProblemException(409, 'D1_PUSH_SETTLED_OTHERWISE', 'Push settled otherwise', `${settledBy} settled command ${commandId} at ${settledAt} as ${settledSucceeded ? 'succeeded' : 'failed'}; a settlement is final.`, {
            settledBy,
            settledAt,
            succeeded: settledSucceeded,
          });
        }
      }
    }
    // The audit of who decided what: ids and the decision only, never anything of the PIN.
    if (!outcome.repeated) {
      const { changeCounter, staleChangeCounter, settledBy } = outcome;
      this.logger.log({ issuerId, cardId: card, commandId, succeeded, changeCounter, staleChangeCounter, settledBy }, 'D1 push settled by an operator');
    }
    return outcome;
  }
}
