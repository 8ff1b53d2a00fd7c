import { Body, Controller, Get, HttpCode, Inject, Logger, Param, Put, Req } from '@nestjs/common';
import { CallLog, correlationIdOf, FaultInjector, parseVendorBody, VendorEndpoints } from '@pinflow/sandbox-kit';
import type { FastifyRequest } from 'fastify';
import { CmsSimulator, EncryptedPinBlock } from './cms-simulator';
import type { SandboxConfig } from './config';
import { CORRELATION_HEADER, requireCardAddress, setPinBody } from './d1-http';

export const SANDBOX_CONFIG = Symbol('SANDBOX_CONFIG');
export const APPLIED_OPERATIONS = ['pinSets'] as const;

/**
 * The PIN Management endpoints a CMS exposes to D1. Checks run in this order: token (401), path (400,
 * then 404 for another issuer), body (400), then the drills (500, 504), the card (404) and the PIN
 * block (400, 403, 409).
 */
@Controller('cms/api/v1/issuers/:issuerId/cards/:cardId/pin')
@VendorEndpoints()
export class PinManagementController {
  private readonly logger = new Logger('PinManagement');

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly simulator: CmsSimulator,
    private readonly faults: FaultInjector,
    private readonly calls: CallLog<(typeof APPLIED_OPERATIONS)[number]>,
  ) {}

  @Put()
  @HttpCode(204)
  async setPin(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string, @Body() body: unknown, @Req() request: FastifyRequest): Promise<void> {
    requireCardAddress(issuerId, cardId, this.config.D1_ISSUER_ID);
    const pinBlock: EncryptedPinBlock = parseVendorBody(setPinBody, body);
    const correlationId = correlationIdOf(request, CORRELATION_HEADER);
    await this.faults.underDrills(async () => {
      await this.simulator.setPin(cardId, pinBlock);
      this.calls.countApplied(correlationId, 'pinSets');
      // Only the block's format (a validated PinBlockType), never the block: the log must not hold what opens to a PIN.
      this.logger.debug({ correlationId, cardId, blockFormat: pinBlock.type }, 'PIN set');
    });
  }

  /** The response schema is not public; the sandbox answers `{"changeCounter": <integer>}`. */
  @Get('changeCounter')
  async changeCounter(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string): Promise<{ changeCounter: number }> {
    requireCardAddress(issuerId, cardId, this.config.D1_ISSUER_ID);
    return this.faults.underDrills(async () => ({ changeCounter: this.simulator.changeCounter(cardId) }));
  }

  @Get()
  async pin(@Param('issuerId') issuerId: string, @Param('cardId') cardId: string, @Req() request: FastifyRequest): Promise<EncryptedPinBlock> {
    requireCardAddress(issuerId, cardId, this.config.D1_ISSUER_ID);
    return this.faults.underDrills(async () => {
      const pinBlock = await this.simulator.pinBlock(cardId);
      this.logger.debug({ correlationId: correlationIdOf(request, CORRELATION_HEADER), cardId, blockFormat: pinBlock.type }, 'PIN read');
      return pinBlock;
    });
  }
}
