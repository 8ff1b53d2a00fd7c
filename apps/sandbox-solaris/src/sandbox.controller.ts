import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ProblemException, ZodValidationPipe } from '@pinflow/http';
import { CardHooksController, holdsSecret } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { ChangeRequests, ChangeRequestView, TextMessage } from './change-requests';
import { deviceKeyFromHex } from './device-signature';
import { PinKeys, SolarisPinJwk } from './pin-keys';
import { Card, CARD_STATUSES, CardStatus, KEY_PURPOSES, KeyPurpose, SolarisRegistry } from './registry';

/** Solaris' ids are 32 hex digits and a type suffix; readable ids such as `card-1` are accepted too. */
const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -');

const deviceBinding = z.strictObject({
  publicKey: z.string().max(200),
  purpose: z.enum(KEY_PURPOSES).default('restricted'),
});

const cardSeed = z.strictObject({
  personId: idParam,
  status: z.enum(CARD_STATUSES).default('ACTIVE'),
});

/** A card as tests may see it: never its PIN, nor the PIN's hash. */
export interface CardView {
  cardId: string;
  personId: string;
  status: CardStatus;
  pinChangedAt: string | null;
  pinChanges: number;
}

export interface DeviceView {
  personId: string;
  deviceId: string;
  purposes: KeyPurpose[];
}

/**
 * Test hooks for Solaris' persons, devices, cards and PIN key; the kit serves the shared ones
 * (knobs, calls, applied, reset...) and reads cards and checks their PINs. No authentication: the
 * sandbox listens on loopback only.
 */
@Controller('sandbox')
export class SandboxController extends CardHooksController<Card, CardView> {
  constructor(
    private readonly registry: SolarisRegistry,
    private readonly keys: PinKeys,
    private readonly changeRequests: ChangeRequests,
  ) {
    super();
  }

  /** The person's phone: every TAN Solaris texted them, oldest first. */
  @Get('persons/:personId/sms')
  textsTo(@Param('personId', new ZodValidationPipe(idParam, 'person id')) personId: string): TextMessage[] {
    return this.changeRequests.textsTo(personId);
  }

  /** Ends the change request's lifetime now, as if its TTL had passed: it FAILS at its next use. */
  @Post('change_requests/:id/expire')
  @HttpCode(200)
  expireChangeRequest(@Param('id', new ZodValidationPipe(idParam, 'change request id')) id: string): ChangeRequestView {
    return this.changeRequests.expire(id);
  }

  /** Device binding, done: the device's public key of that purpose is registered to the person. */
  @Put('persons/:personId/devices/:deviceId')
  bindDevice(
    @Param('personId', new ZodValidationPipe(idParam, 'person id')) personId: string,
    @Param('deviceId', new ZodValidationPipe(idParam, 'device id')) deviceId: string,
    @Body(new ZodValidationPipe(deviceBinding)) binding: z.output<typeof deviceBinding>,
  ): DeviceView {
    let key;
    try {
      key = deviceKeyFromHex(binding.publicKey);
    } catch (error) {
      throw new ProblemException(400, 'INVALID_DEVICE_KEY', 'Invalid device key', (error as Error).message);
    }
    const device = this.registry.bindDevice(personId, deviceId, binding.purpose, key);
    return { personId, deviceId, purposes: KEY_PURPOSES.filter((purpose) => device.keys[purpose] !== undefined) };
  }

  /** Creates the card, owned by the person, or replaces it with a fresh one without a PIN. */
  @Put('cards/:cardId')
  seedCard(@Param('cardId', new ZodValidationPipe(idParam, 'card id')) cardId: string, @Body(new ZodValidationPipe(cardSeed)) seed: z.output<typeof cardSeed>): CardView {
    return this.view(this.registry.seedCard(cardId, seed.personId, seed.status));
  }

  /** A new PIN key replaces the latest one; PINs encrypted to the previous one are refused from now on. */
  @Post('pin-keys/rotate')
  @HttpCode(200)
  rotatePinKey(): Promise<SolarisPinJwk> {
    return this.keys.rotate();
  }

  protected findCard(cardId: string): Card | undefined {
    return this.registry.card(cardId);
  }

  protected holdsPin(card: Card, pin: string): boolean {
    return holdsSecret(card.pinHash, pin);
  }

  protected view(card: Card): CardView {
    return { cardId: card.cardId, personId: card.personId, status: card.status, pinChangedAt: card.pinChangedAt?.toISOString() ?? null, pinChanges: card.pinChanges };
  }
}
