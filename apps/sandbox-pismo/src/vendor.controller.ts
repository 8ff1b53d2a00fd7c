import { Body, Controller, Header, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { FaultInjector, parseVendorBody, VendorEndpoints } from '@pinflow/sandbox-kit';
import type { Request } from 'express';
import { z } from 'zod';
import { cidOf } from './pismo-http';
import { PismoSimulator } from './pismo-simulator';

const changePasswordBody = z.object(
  {
    pin: z.string({ error: 'pin must be a string of 4 to 6 digits' }).regex(/^\d{4,6}$/, { error: 'pin must be a string of 4 to 6 digits' }),
    sync_offline_pin: z.boolean({ error: 'sync_offline_pin must be a boolean' }).optional(),
  },
  { error: 'the body must be a JSON object' },
);

const increaseTriesBody = z.object(
  { block_card_exceeds_counter: z.boolean({ error: 'block_card_exceeds_counter must be a boolean' }) },
  { error: 'the body must be a JSON object' },
);

/** Pismo's two card hosts (PCI and wallet), served side by side; each operation under the drills. */
@Controller()
@VendorEndpoints()
export class CardsController {
  constructor(
    private readonly simulator: PismoSimulator,
    private readonly faults: FaultInjector,
  ) {}

  /** Pismo answers 201 with a JSON string naming the correlation id. */
  @Put('pcicards/v2/pcicards/card/:cardId')
  @HttpCode(201)
  @Header('Content-Type', 'application/json')
  async changePassword(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: Request): Promise<string> {
    const { pin, sync_offline_pin: syncOfflinePin = false } = parseVendorBody(changePasswordBody, body);
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.changePassword(cardId, pin, syncOfflinePin, cid));
    return JSON.stringify(`[${cid}] Card updated`);
  }

  @Post('wallet/v2/cards/:cardId/password-tries/increase')
  @HttpCode(200)
  async increasePasswordTries(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: Request): Promise<{ success: string }> {
    const { block_card_exceeds_counter: blockWhenExceeded } = parseVendorBody(increaseTriesBody, body);
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.increasePasswordTries(cardId, blockWhenExceeded, cid));
    return { success: 'Incremented password tries counter' };
  }

  /** Pismo's published OpenAPI answers this one with CardsSuccessResponse, a boolean flag (the increase answers a message). */
  @Post('wallet/v2/cards/:cardId/password-tries/reset')
  @HttpCode(200)
  async resetPasswordTries(@Param('cardId') cardId: string, @Req() request: Request): Promise<{ success: true }> {
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.resetPasswordTries(cardId, cid));
    return { success: true };
  }
}
