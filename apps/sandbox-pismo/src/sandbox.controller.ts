import { Body, Controller, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ZodValidationPipe } from '@pinflow/http';
import { CardHooksController, holdsSecret } from '@pinflow/sandbox-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Card, CARD_STATUSES, CARD_TYPES, CardStatus, ChipScript } from './card';
import { CardRegistry } from './card-registry';
import { cidOf } from './pismo-http';
import { PismoSimulator } from './pismo-simulator';

const pismoId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const maxPasswordTries = z.number().int().min(1).max(99);

/** Pismo's ids are integers; readable ids such as `card-1` are accepted too, for tests and demos. */
const cardIdParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -');

const programIdParam = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, 'must be a Pismo program id: a positive integer')
  .transform(Number);

// Pismo's schemas spell UNBOUND as UMBOUND in places; both seed the same status.
const seedStatus = z.enum([...CARD_STATUSES, 'UMBOUND']).transform((status): CardStatus => (status === 'UMBOUND' ? 'UNBOUND' : status));

const cardSeed = z
  .strictObject({
    status: seedStatus.default('NORMAL'),
    programId: pismoId.default(1),
    accountId: pismoId.optional(),
    customerId: pismoId.optional(),
    cardType: z.enum(CARD_TYPES).default('PLASTIC'),
    cardName: z.string().min(1).max(100).optional(),
    printedName: z.string().min(1).max(100).optional(),
    /** The card number PIN blocks are bound to; a random one when not given. */
    pan: z.string().regex(/^\d{13,19}$/, 'must be 13 to 19 digits').optional(),
    maxPasswordTries: maxPasswordTries.optional(),
  })
  .prefault({});

const programSettings = z.strictObject({ maxPasswordTries });

const verifyPinRequest = z.strictObject({ pin: z.string().max(64) });

interface ScriptView {
  id: number;
  type: string;
  /** PIN_UPDATE: the issuer's pre-registered script id. */
  issuerScriptId: string | null;
  createdAt: string;
  appliedAt: string | null;
}

/** A card as tests may see it: never its PIN, nor the PIN's hash. */
export interface CardView {
  cardId: string;
  status: CardStatus;
  passwordTries: number;
  maxPasswordTries: number;
  programId: number;
  accountId: number;
  customerId: number;
  cardType: string;
  pinChangedAt: string | null;
  pinChanges: number;
  pendingScripts: ScriptView[];
  appliedScripts: ScriptView[];
  /** Why PIN blocks for the card set no PIN (the PIN block endpoint answers 204 all the same). */
  pinBlockRefusals: { at: string; problem: string }[];
}

function scriptView(script: ChipScript): ScriptView {
  return { id: script.id, type: script.type, issuerScriptId: script.issuerScriptId ?? null, createdAt: script.createdAt.toISOString(), appliedAt: script.appliedAt?.toISOString() ?? null };
}

/**
 * Test hooks for Pismo's cards and programs; the kit serves the shared ones (knobs, calls, reset...)
 * and reads cards and checks their PINs. No authentication: the sandbox listens on loopback only.
 */
@Controller('sandbox')
export class SandboxController extends CardHooksController<Card, CardView> {
  constructor(
    private readonly registry: CardRegistry,
    private readonly simulator: PismoSimulator,
  ) {
    super();
  }

  @Put('cards/:cardId')
  seedCard(
    @Param('cardId', new ZodValidationPipe(cardIdParam, 'card id')) cardId: string,
    @Body(new ZodValidationPipe(cardSeed)) seed: z.output<typeof cardSeed>,
  ): CardView {
    return this.view(this.registry.seed(cardId, seed));
  }

  @Post('cards/:cardId/contact-authorization')
  @HttpCode(200)
  async contactAuthorization(@Param('cardId') cardId: string, @Req() request: FastifyRequest): Promise<{ appliedScripts: ScriptView[] }> {
    const applied = await this.simulator.contactAuthorization(this.existingCard(cardId), cidOf(request));
    return { appliedScripts: applied.map(scriptView) };
  }

  /** Like verify-pin, for the PIN on the chip: what the applied scripts wrote, never revealed. */
  @Post('cards/:cardId/verify-offline-pin')
  @HttpCode(200)
  verifyOfflinePin(@Param('cardId') cardId: string, @Body(new ZodValidationPipe(verifyPinRequest)) { pin }: z.output<typeof verifyPinRequest>): { matches: boolean } {
    return { matches: holdsSecret(this.existingCard(cardId).offlinePinHash, pin) };
  }

  @Put('programs/:programId')
  setProgram(
    @Param('programId', new ZodValidationPipe(programIdParam, 'program id')) programId: number,
    @Body(new ZodValidationPipe(programSettings)) settings: z.output<typeof programSettings>,
  ): { programId: number; maxPasswordTries: number } {
    this.registry.setProgramMaxPasswordTries(programId, settings.maxPasswordTries);
    return { programId, maxPasswordTries: settings.maxPasswordTries };
  }

  protected findCard(cardId: string): Card | undefined {
    return this.registry.find(cardId);
  }

  protected holdsPin(card: Card, pin: string): boolean {
    return holdsSecret(card.pinHash, pin);
  }

  protected view(card: Card): CardView {
    const { profile } = card;
    return {
      cardId: profile.cardId,
      status: card.status,
      passwordTries: card.passwordTries,
      maxPasswordTries: this.registry.maxPasswordTries(card),
      programId: profile.programId,
      accountId: profile.accountId,
      customerId: profile.customerId,
      cardType: profile.cardType,
      pinChangedAt: card.pinChangedAt?.toISOString() ?? null,
      pinChanges: card.pinChanges,
      pendingScripts: card.pendingScripts.map(scriptView),
      appliedScripts: card.appliedScripts.map(scriptView),
      pinBlockRefusals: card.pinBlockRefusals.map(({ at, problem }) => ({ at: at.toISOString(), problem })),
    };
  }
}
