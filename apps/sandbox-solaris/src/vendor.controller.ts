import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { FaultInjector, parseVendorBody, VendorEndpoints } from '@pinflow/sandbox-kit';
import { PinKeys, SolarisPinJwk } from './pin-keys';
import { PinUpdateResponse, pinUpdateRequestSchema, PinUpdates } from './pin-update';

/** Solaris' card endpoints for PIN changes; each one under the drills. */
@Controller('v1/cards')
@VendorEndpoints()
export class CardsController {
  constructor(
    private readonly keys: PinKeys,
    private readonly pinUpdates: PinUpdates,
    private readonly faults: FaultInjector,
  ) {}

  @Get('pin_keys/latest')
  latestPinKey(): Promise<SolarisPinJwk> {
    return this.faults.underDrills(async () => this.keys.latest);
  }

  /** Some of Solaris' documents name a card in the path; the key is the same for every card. */
  @Get(':cardAccountId/pin_keys/latest')
  latestPinKeyOfCard(): Promise<SolarisPinJwk> {
    return this.latestPinKey();
  }

  /** Validated before the drills, so a malformed request is always a 400. */
  @Post(':cardAccountId/pin_update_requests')
  @HttpCode(201)
  changePin(@Param('cardAccountId') cardId: string, @Body() body: unknown): Promise<PinUpdateResponse> {
    const request = parseVendorBody(pinUpdateRequestSchema, body);
    return this.faults.underDrills(() => this.pinUpdates.changePin(cardId, request));
  }
}
