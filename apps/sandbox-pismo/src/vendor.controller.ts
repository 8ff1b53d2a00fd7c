import { Body, Controller, Header, HttpCode, Inject, Param, Post, Put, Req } from '@nestjs/common';
import { FaultInjector, parseVendorBody, VendorEndpoints, VendorError } from '@pinflow/sandbox-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { cardIdOf } from './pismo-events';
import { cidOf } from './pismo-http';
import type { SandboxConfig } from './config';
import { PismoSimulator, SANDBOX_CONFIG } from './pismo-simulator';

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

const pinField = z.string({ error: 'pin must be a string of 4 to 6 digits' }).regex(/^\d{4,6}$/, { error: 'pin must be a string of 4 to 6 digits' });
const pinBlockField = (name: string) => z.string({ error: `${name} must be 16 hex digits` }).regex(/^[0-9A-Fa-f]{16}$/, { error: `${name} must be 16 hex digits` });
const keyIdField = z.string({ error: 'key_id must be a string' }).min(1, { error: 'key_id must be a string' }).max(64);

/** AppendUpdatePinIssuerScriptBody: the PIN itself, or a PIN block under a zone PIN key (its `key_id`), as the PIN block endpoint takes it. */
const pinUpdateScriptBody = z
  .object(
    {
      script_id: z.string({ error: 'script_id must be a string' }).min(1, { error: 'script_id must be a string' }).max(64),
      pin: pinField.optional(),
      pin_block: pinBlockField('pin_block').optional(),
      key_id: keyIdField.optional(),
    },
    { error: 'the body must be a JSON object' },
  )
  .refine((body) => (body.pin === undefined) !== (body.pin_block === undefined), { error: 'exactly one of pin and pin_block is required' })
  .refine((body) => (body.pin_block === undefined) === (body.key_id === undefined), { error: 'key_id names the key of pin_block: send both or neither' });

/** UpdatePinFromPinblockBody: a 64-bit PIN block in hex, and the id of the zone PIN key it is enciphered under. */
const pinBlockBody = z.object(
  {
    pinblock: pinBlockField('pinblock'),
    key_id: keyIdField,
    sync_offline_pin: z.boolean({ error: 'sync_offline_pin must be a boolean' }).optional(),
  },
  { error: 'the body must be a JSON object' },
);

const accountIdHeader = z.string({ error: 'x-account-id header is required' }).regex(/^[1-9]\d{0,14}$/, { error: 'x-account-id must be a Pismo account id' });

/** AppendIssuerScriptResponse. */
interface AppendedScript {
  card_script_id: string;
  org_id: string;
  card_id: number | string;
  account_id: number;
  script_id: string;
  created_at: string;
  applied: boolean;
}

/** Pismo's two card hosts (PCI and wallet), served side by side; each operation under the drills. */
@Controller()
@VendorEndpoints()
export class CardsController {
  constructor(
    private readonly simulator: PismoSimulator,
    private readonly faults: FaultInjector,
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
  ) {}

  /** Pismo answers 201 with a JSON string naming the correlation id. */
  @Put('pcicards/v2/pcicards/card/:cardId')
  @HttpCode(201)
  @Header('Content-Type', 'application/json')
  async changePassword(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<string> {
    const { pin, sync_offline_pin: syncOfflinePin = false } = parseVendorBody(changePasswordBody, body);
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.changePassword(cardId, pin, syncOfflinePin, cid));
    return JSON.stringify(`[${cid}] Card updated`);
  }

  /** 204; the PIN is changed, or the block refused, as update_password-1 tells (SUCCESS or FAILURE). */
  @Put('pcicards/v1/pcicards/:cardId/pinblock')
  @HttpCode(204)
  async updatePinFromPinBlock(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    const { pinblock, key_id: keyId, sync_offline_pin: syncOfflinePin = false } = parseVendorBody(pinBlockBody, body);
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.updatePinFromPinBlock(cardId, pinblock, keyId, syncOfflinePin, cid));
  }

  @Post('wallet/v2/cards/:cardId/password-tries/increase')
  @HttpCode(200)
  async increasePasswordTries(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<{ success: string }> {
    const { block_card_exceeds_counter: blockWhenExceeded } = parseVendorBody(increaseTriesBody, body);
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.increasePasswordTries(cardId, blockWhenExceeded, cid));
    return { success: 'Incremented password tries counter' };
  }

  /** Pismo's published OpenAPI answers this one with CardsSuccessResponse, a boolean flag (the increase answers a message). */
  @Post('wallet/v2/cards/:cardId/password-tries/reset')
  @HttpCode(200)
  async resetPasswordTries(@Param('cardId') cardId: string, @Req() request: FastifyRequest): Promise<{ success: true }> {
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.resetPasswordTries(cardId, cid));
    return { success: true };
  }

  /** Pismo's body "should be empty": whatever comes is ignored. 204, and issuer_script-1 (script_created). */
  @Post('pcicards/v1/pcicards/:cardId/scripts/sync-offline-pin')
  @HttpCode(204)
  async syncOfflinePin(@Param('cardId') cardId: string, @Req() request: FastifyRequest): Promise<void> {
    const cid = cidOf(request);
    await this.faults.underDrills(() => this.simulator.syncOfflinePin(cardId, cid));
  }

  @Post('pcicards/v1/pcicards/:cardId/scripts/pin-update')
  @HttpCode(200)
  async appendPinUpdateScript(@Param('cardId') cardId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<AppendedScript> {
    const accountId = accountIdHeader.safeParse(request.headers['x-account-id']);
    if (!accountId.success) throw new VendorError(400, 'INVALID_HEADER', accountId.error.issues[0].message);
    const { script_id: scriptId, pin, pin_block: pinBlock, key_id: keyId } = parseVendorBody(pinUpdateScriptBody, body);
    const cid = cidOf(request);
    const scriptPin = pin === undefined ? { pinBlock: pinBlock!, keyId: keyId! } : { pin };
    const { card, script } = await this.faults.underDrills(() => this.simulator.appendPinUpdateScript(cardId, accountId.data, scriptPin, scriptId, cid));
    return {
      card_script_id: String(script.id),
      org_id: this.config.SANDBOX_ORG_ID,
      card_id: cardIdOf(card),
      account_id: card.profile.accountId,
      script_id: scriptId,
      created_at: script.createdAt.toISOString(),
      applied: false,
    };
  }
}
