import { Body, Controller, Header, Headers, HttpCode, Inject, Param, Post, Put, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import type { SandboxConfig } from './config';
import { FaultInjector } from './faults';
import { PismoSimulator, SANDBOX_CONFIG } from './pismo-simulator';
import { basicCredentials, credentialsMatch, TokenIssuer, TokenResponse } from './tokens';
import { BearerTokenGuard, cidOf, parseVendorBody, TOKEN_PATH, VendorError, VendorErrorFilter } from './vendor-http';

const tokenRequest = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

/** Pismo's passport: OAuth2 client credentials, as a JSON or form body, or HTTP Basic. */
@Controller()
@UseFilters(VendorErrorFilter)
export class PassportController {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly tokens: TokenIssuer,
    private readonly faults: FaultInjector,
  ) {}

  @Post(TOKEN_PATH)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  token(@Body() body: unknown, @Headers('authorization') authorization?: string): TokenResponse {
    const request = tokenRequest.safeParse(body ?? {});
    if (!request.success || request.data.grant_type === undefined) throw new VendorError(400, { error: 'invalid_request' });
    if (request.data.grant_type !== 'client_credentials') throw new VendorError(400, { error: 'unsupported_grant_type' });
    const { client_id: clientId, client_secret: clientSecret } = request.data;
    const given = basicCredentials(authorization) ?? (clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined);
    const expected = { clientId: this.config.SANDBOX_CLIENT_ID, clientSecret: this.config.SANDBOX_CLIENT_SECRET };
    if (!given || !credentialsMatch(given, expected)) throw new VendorError(401, { error: 'invalid_client' });
    return this.tokens.issue(this.faults.knobs.tokenTtlSeconds);
  }
}

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

/** Pismo's two card hosts (PCI and wallet), served side by side. */
@Controller()
@UseFilters(VendorErrorFilter)
@UseGuards(BearerTokenGuard)
export class CardsController {
  constructor(private readonly simulator: PismoSimulator) {}

  /** Pismo answers 201 with a JSON string naming the correlation id. */
  @Put('pcicards/v2/pcicards/card/:cardId')
  @HttpCode(201)
  @Header('Content-Type', 'application/json')
  async changePassword(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: Request): Promise<string> {
    const { pin, sync_offline_pin: syncOfflinePin = false } = parseVendorBody(changePasswordBody, body);
    const cid = cidOf(request);
    await this.simulator.underDrills(() => this.simulator.changePassword(cardId, pin, syncOfflinePin, cid));
    return JSON.stringify(`[${cid}] Card updated`);
  }

  @Post('wallet/v2/cards/:cardId/password-tries/increase')
  @HttpCode(200)
  async increasePasswordTries(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: Request): Promise<{ success: string }> {
    const { block_card_exceeds_counter: blockWhenExceeded } = parseVendorBody(increaseTriesBody, body);
    const cid = cidOf(request);
    await this.simulator.underDrills(() => this.simulator.increasePasswordTries(cardId, blockWhenExceeded, cid));
    return { success: 'Incremented password tries counter' };
  }

  /** Pismo documents no response body for this one; the sandbox mirrors the increase endpoint's. */
  @Post('wallet/v2/cards/:cardId/password-tries/reset')
  @HttpCode(200)
  async resetPasswordTries(@Param('cardId') cardId: string, @Req() request: Request): Promise<{ success: string }> {
    const cid = cidOf(request);
    await this.simulator.underDrills(() => this.simulator.resetPasswordTries(cardId, cid));
    return { success: 'Reset password tries counter' };
  }
}
