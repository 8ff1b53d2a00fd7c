import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { FaultInjector, parseVendorBody, VendorEndpoints } from '@pinflow/sandbox-kit';
import { authorizeSchema, ChangeRequests, ChangeRequestView, confirmSchema } from './change-requests';
import { PinKeys, SolarisPinJwk } from './pin-keys';
import { PinUpdateResponse, pinUpdateRequestSchema, PinUpdates } from './pin-update';

/** Solaris' card endpoints for PIN changes; each one under the drills. */
@Controller('v1/cards')
@VendorEndpoints()
export class CardsController {
  constructor(
    private readonly keys: PinKeys,
    private readonly pinUpdates: PinUpdates,
    private readonly changeRequests: ChangeRequests,
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

  /** The strong-customer-authentication variant: the same checks, and a change request that holds the PIN until confirmed. */
  @Post(':cardAccountId/sca_pin_update_requests')
  @HttpCode(202)
  requestPinChange(@Param('cardAccountId') cardId: string, @Body() body: unknown): Promise<ChangeRequestView> {
    const request = parseVendorBody(pinUpdateRequestSchema, body);
    return this.faults.underDrills(async () => this.changeRequests.create(cardId, request));
  }
}

/** Solaris' change requests: authorized (a TAN texted to the person) and then confirmed with it. */
@Controller('v1/change_requests')
@VendorEndpoints()
export class ChangeRequestsController {
  constructor(
    private readonly changeRequests: ChangeRequests,
    private readonly faults: FaultInjector,
  ) {}

  @Get(':id')
  show(@Param('id') id: string): Promise<ChangeRequestView> {
    return this.faults.underDrills(async () => this.changeRequests.view(id));
  }

  @Post(':id/authorize')
  @HttpCode(201)
  authorize(@Param('id') id: string, @Body() body: unknown): Promise<ChangeRequestView> {
    const request = parseVendorBody(authorizeSchema, body);
    return this.faults.underDrills(async () => this.changeRequests.authorize(id, request));
  }

  @Post(':id/confirm')
  @HttpCode(201)
  confirm(@Param('id') id: string, @Body() body: unknown): Promise<ChangeRequestView> {
    const request = parseVendorBody(confirmSchema, body);
    return this.faults.underDrills(async () => this.changeRequests.confirm(id, request));
  }
}
