import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { FaultInjector, parseVendorBody, VendorEndpoints } from '@pinflow/sandbox-kit';
import { z } from 'zod';
import { cardIdFrom } from './card';
import { PublicKeyView, RsaKeyRing } from './rsa-keys';
import { vaultError } from './vault-errors';
import { VaultSimulator } from './vault-simulator';

const bodyObject = { error: 'the body must be a JSON object' };
const text = (field: string, maxLength: number) =>
  z
    .string({ error: `${field} must be a string` })
    .min(1, { error: `${field} must not be empty` })
    .max(maxLength, { error: `${field} must be at most ${maxLength} characters` });

// Lenient on input, as Vault's Java stack would be: unknown fields are ignored.
const setPasscodeBody = z.object({ keyId: text('keyId', 128), code: text('code', 64), passCode: text('passCode', 4096) }, bodyObject);
const verifyCodeBody = z.object({ code: text('code', 64) }, bodyObject);

type Ok = { result: 'ok' };
const OK: Ok = { result: 'ok' };

function vaultCardId(raw: string): string {
  const id = cardIdFrom(raw);
  if (id === undefined) throw vaultError('VALIDATION_ERROR', 'id must be an integer from 1 to 9223372036854775807', 'id');
  return id;
}

/** Vault's card passcode API (Card Program 1); every call under the drills. */
@Controller('v2/card')
@VendorEndpoints()
export class VaultCardController {
  constructor(
    private readonly simulator: VaultSimulator,
    private readonly keys: RsaKeyRing,
    private readonly faults: FaultInjector,
  ) {}

  @Get('rsa-public-key')
  publicKey(): Promise<PublicKeyView> {
    return this.faults.underDrills(async () => this.keys.publicKey);
  }

  /** Inferred from the flow: Vault texts the cardholder the code that `code/set` then takes. */
  @Post(':id/passcode/sms/send')
  @HttpCode(200)
  async sendCode(@Param('id') rawId: string): Promise<Ok> {
    const id = vaultCardId(rawId);
    await this.faults.underDrills(async () => this.simulator.sendCode(id));
    return OK;
  }

  /** Inferred: checks the code the cardholder typed without using it up. */
  @Post(':id/passcode/sms/verify')
  @HttpCode(200)
  async verifyCode(@Param('id') rawId: string, @Body() body: unknown): Promise<Ok> {
    const id = vaultCardId(rawId);
    const { code } = parseVendorBody(verifyCodeBody, body);
    await this.faults.underDrills(async () => this.simulator.verifyCode(id, code));
    return OK;
  }

  @Post(':id/passcode/code/set')
  @HttpCode(200)
  async setPasscode(@Param('id') rawId: string, @Body() body: unknown): Promise<Ok> {
    const id = vaultCardId(rawId);
    const request = parseVendorBody(setPasscodeBody, body);
    await this.faults.underDrills(() => this.simulator.setPasscode(id, request));
    return OK;
  }
}
