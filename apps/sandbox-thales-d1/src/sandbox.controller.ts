import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ZodValidationPipe } from '@pinflow/http';
import { CardHooksController } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { Card, CARD_STATUSES, CardStatus } from './card';
import { CardRegistry } from './card-registry';
import { CARD_ID_PATTERN } from './d1-http';
import { CallerKey, CmsEncryptionKey, D1PublicJwk } from './d1-jwe';
import { PinBlockType } from './pin-block-json';
import { PinVault } from './pin-vault';

const cardIdParam = z.string().regex(CARD_ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,48}$');

const cardSeed = z.strictObject({
  pan: z.string().regex(/^[0-9]{12,19}$/, 'must be 12 to 19 digits'),
  status: z.enum(CARD_STATUSES).default('ACTIVE'),
  changeCounter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});

/** A P-256 public key; a private key (`d`) is refused rather than stored. */
const callerKeyRequest = z.strictObject({
  jwk: z.looseObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().regex(/^[\w-]{43}$/, 'must be a base64url P-256 coordinate'),
    y: z.string().regex(/^[\w-]{43}$/, 'must be a base64url P-256 coordinate'),
    kid: z.string().min(1).max(256).optional(),
    d: z.never({ error: 'send the public key only' }).optional(),
  }),
});

/** A card as tests may see it: never its PAN in clear, nor its PIN in any form. */
export interface CardView {
  cardId: string;
  maskedPan: string;
  status: CardStatus;
  changeCounter: number;
  /** The block type the current PIN was set with; null while the card has no PIN. */
  pinType: PinBlockType | null;
  pinChangedAt: string | null;
  pinChanges: number;
}

/** Only the last four digits, as on a receipt. */
export function maskPan(pan: string): string {
  return '*'.repeat(pan.length - 4) + pan.slice(-4);
}

/**
 * The CMS's own test hooks; the kit's (knobs, calls, applied, tokens, reset) sit next to them, and
 * the kit reads cards and checks their PINs. No authentication: the sandbox listens on loopback only.
 */
@Controller('sandbox')
export class CmsHooksController extends CardHooksController<Card, CardView> {
  constructor(
    private readonly registry: CardRegistry,
    private readonly vault: PinVault,
    private readonly cmsKey: CmsEncryptionKey,
    private readonly callerKey: CallerKey,
  ) {
    super();
  }

  /** In reality the CMS hands this key to Thales at onboarding; here D1's stand-in fetches it. */
  @Get('encryption-key')
  encryptionKey(): D1PublicJwk {
    return this.cmsKey.publicJwk;
  }

  /** D1's public key, which GET .../pin encrypts to; exchanged at onboarding in reality. */
  @Put('caller-key')
  registerCallerKey(@Body(new ZodValidationPipe(callerKeyRequest)) { jwk }: z.output<typeof callerKeyRequest>): Promise<D1PublicJwk> {
    return this.callerKey.register(jwk);
  }

  @Put('cards/:cardId')
  seedCard(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(cardSeed)) seed: z.output<typeof cardSeed>,
  ): CardView {
    return this.view(this.registry.seed(cardId, seed));
  }

  protected findCard(cardId: string): Card | undefined {
    return this.registry.find(cardId);
  }

  protected holdsPin({ pin: stored }: Card, pin: string): boolean {
    return stored !== undefined && this.vault.matches(stored.sealed, pin);
  }

  protected view(card: Card): CardView {
    return {
      cardId: card.cardId,
      maskedPan: maskPan(card.pan),
      status: card.status,
      changeCounter: card.changeCounter,
      pinType: card.pin?.type ?? null,
      pinChangedAt: card.pinChangedAt?.toISOString() ?? null,
      pinChanges: card.pinChanges,
    };
  }
}
