import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Put } from '@nestjs/common';
import { ZodValidationPipe } from '@pinflow/http';
import { AppliedCounts, CallLog, VendorCall } from './call-log';
import { FaultInjector, Knobs } from './faults';
import { SANDBOX_KIT_OPTIONS, type SandboxKitOptions } from './options';
import { TokenIssuer } from './tokens';

/** The test hooks and drill knobs every sandbox has. No authentication: sandboxes listen on loopback only. */
@Controller('sandbox')
export class SandboxHooksController {
  constructor(
    private readonly calls: CallLog,
    private readonly faults: FaultInjector,
    private readonly tokens: TokenIssuer,
    @Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions,
  ) {}

  @Get('calls')
  allCalls(): VendorCall[] {
    return this.calls.allCalls();
  }

  @Get('applied')
  applied(): Record<string, AppliedCounts> {
    return this.calls.appliedByKey();
  }

  @Get('knobs')
  knobs(): Knobs {
    return this.faults.knobs;
  }

  @Put('knobs')
  setKnobs(@Body() body: unknown): Knobs {
    return this.faults.update(new ZodValidationPipe(this.faults.patchSchema).transform(body));
  }

  /** Every issued token stops working at once, as if the vendor had rotated its keys. */
  @Delete('tokens')
  @HttpCode(204)
  revokeTokens(): void {
    this.tokens.revokeAll();
  }

  @Post('reset')
  @HttpCode(204)
  reset(): void {
    this.options.onReset();
    this.calls.clear();
    this.faults.reset();
    this.tokens.revokeAll();
  }
}
