import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { holdsSecret, seededCard } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { CARD_STATUSES, cardIdFrom, CardRegistry, CardStatus, VaultCard } from './card';
import { OneTimeCode } from './one-time-code';
import { PublicKeyView, RsaKeyRing } from './rsa-keys';
import { VaultSimulator } from './vault-simulator';

const cardIdParam = z.string().transform((raw, context) => {
  const id = cardIdFrom(raw);
  if (id === undefined) context.addIssue({ code: 'custom', message: 'must be an integer from 1 to 9223372036854775807' });
  return id ?? z.NEVER;
});

const cardSeed = z.strictObject({ status: z.enum(CARD_STATUSES).default('ACTIVE') }).prefault({});
const verifyPasscodeRequest = z.strictObject({ passCode: z.string().max(64) });

/** A card as tests may see it: never its passcode, the passcode's hash or its code. */
export interface CardView {
  id: string;
  status: CardStatus;
  passcodeSetAt: string | null;
  passcodeChanges: number;
}

/** A one-time code as the cardholder's phone shows it. */
export interface CodeView {
  code: string;
  expiresAt: string;
  used: boolean;
}

function codeView(code: OneTimeCode): CodeView {
  return { code: code.value, expiresAt: code.expiresAt.toISOString(), used: code.used };
}

/**
 * Test hooks for Vault's cards, codes and key; the kit serves the shared ones (knobs, calls, reset...).
 * No authentication: the sandbox listens on loopback only.
 */
@Controller('sandbox')
export class SandboxController {
  constructor(
    private readonly cards: CardRegistry,
    private readonly keys: RsaKeyRing,
    private readonly simulator: VaultSimulator,
  ) {}

  @Put('cards/:id')
  seedCard(
    @Param('id', new ZodValidationPipe(cardIdParam, 'card id')) id: string,
    @Body(new ZodValidationPipe(cardSeed)) seed: z.output<typeof cardSeed>,
  ): CardView {
    return view(this.cards.seed(id, seed.status));
  }

  @Get('cards/:id')
  card(@Param('id', new ZodValidationPipe(cardIdParam, 'card id')) id: string): CardView {
    return view(this.existingCard(id));
  }

  /** Texts the card a new code, as `sms/send` does (but for any seeded card), and shows it: the cardholder's phone, for tests. */
  @Post('cards/:id/otp')
  @HttpCode(200)
  issueCode(@Param('id', new ZodValidationPipe(cardIdParam, 'card id')) id: string): CodeView {
    return codeView(this.simulator.textCode(this.existingCard(id)));
  }

  /** The last code texted to the card, by `sms/send` or the hook above. */
  @Get('cards/:id/otp')
  lastCode(@Param('id', new ZodValidationPipe(cardIdParam, 'card id')) id: string): CodeView {
    const { code } = this.existingCard(id);
    if (!code) throw new ProblemException(404, 'NO_CODE_SENT', 'No code sent', 'No code was texted for this card.');
    return codeView(code);
  }

  /** Lets a test prove which passcode arrived without the sandbox ever revealing one. */
  @Post('cards/:id/verify-passcode')
  @HttpCode(200)
  verifyPasscode(
    @Param('id', new ZodValidationPipe(cardIdParam, 'card id')) id: string,
    @Body(new ZodValidationPipe(verifyPasscodeRequest)) { passCode }: z.output<typeof verifyPasscodeRequest>,
  ): { matches: boolean } {
    return { matches: holdsSecret(this.existingCard(id).passcodeHash, passCode) };
  }

  /** A new key pair; the old key's id is refused from now on. */
  @Post('rsa-key/rotate')
  @HttpCode(200)
  rotateKey(): Promise<PublicKeyView> {
    return this.keys.rotate();
  }

  private existingCard(id: string): VaultCard {
    return seededCard(this.cards.find(id));
  }
}

function view(card: VaultCard): CardView {
  return { id: card.id, status: card.status, passcodeSetAt: card.passcodeSetAt?.toISOString() ?? null, passcodeChanges: card.passcodeChanges };
}
