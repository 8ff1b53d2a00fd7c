import { Body, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { z } from 'zod';
import type { PinHash } from './pin-hash';

/** A seeded card, or the 404 problem a card hook answers for a card no test seeded. */
export function seededCard<C>(card: C | undefined): C {
  if (card === undefined) throw new ProblemException(404, 'CARD_NOT_FOUND', 'Card not found', 'No card with this id was seeded.');
  return card;
}

/** Whether a card's stored PIN (or passcode) is `secret`; a card without one holds none. */
export function holdsSecret(stored: PinHash | undefined, secret: string): boolean {
  return stored !== undefined && stored.matches(secret);
}

const verifyPinRequest = z.strictObject({ pin: z.string().max(64) });

/**
 * The hooks a sandbox has for its cards whatever its vendor: `GET /sandbox/cards/:cardId` shows one
 * without its secrets, `POST /sandbox/cards/:cardId/verify-pin` tells whether it holds a PIN. The
 * sandbox's hooks controller (`@Controller('sandbox')`) extends it with its own card model: how it
 * finds a card, shows it, and checks a PIN; seeding stays the sandbox's, as cards differ by vendor.
 */
export abstract class CardHooksController<Card, View> {
  /** The card seeded under this id, if any. */
  protected abstract findCard(cardId: string): Card | undefined;

  /** The card as tests may see it: never its secrets. */
  protected abstract view(card: Card): View;

  /** Whether the card holds this PIN; false for a card without one. */
  protected abstract holdsPin(card: Card, pin: string): boolean;

  @Get('cards/:cardId')
  card(@Param('cardId') cardId: string): View {
    return this.view(this.existingCard(cardId));
  }

  /** Lets a test prove which PIN arrived without the sandbox ever revealing one. */
  @Post('cards/:cardId/verify-pin')
  @HttpCode(200)
  verifyPin(@Param('cardId') cardId: string, @Body(new ZodValidationPipe(verifyPinRequest)) { pin }: z.output<typeof verifyPinRequest>): { matches: boolean } {
    return { matches: this.holdsPin(this.existingCard(cardId), pin) };
  }

  protected existingCard(cardId: string): Card {
    return seededCard(this.findCard(cardId));
  }
}
