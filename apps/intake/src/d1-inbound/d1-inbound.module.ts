import { DynamicModule, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { acceptFormsAt } from '@pinflow/http';
import { SqlPool } from '@pinflow/sql';
import { d1InboundSettings } from './config';
import type { IntakeConfig } from '../config';
import { D1ChangeCounters } from './change-counters';
import { D1Door } from './d1-door';
import { D1PinManagementController, D1TokenController, D1_TOKEN_PATH } from './d1-inbound.controller';
import { D1OperatorController } from './d1-operator.controller';

/**
 * pinflow as the card management system Thales D1 calls. The PIN Management controller is intake's
 * own (it submits through intake's one acceptance path): add {@link D1PinManagementController} and
 * {@link D1OperatorController} to intake's controllers (behind its operator tokens), and import this
 * module for the door and counters they need.
 */
@Module({})
export class D1InboundModule {
  static forRoot(config: IntakeConfig): DynamicModule {
    const settings = d1InboundSettings(config);
    // Only the outcomes of the processors D1's pushes go to can settle one (none without an issuer).
    const routedVendors = [...new Set(Object.values(settings?.issuers ?? {}).map((route) => route.vendor))];
    return {
      module: D1InboundModule,
      controllers: [D1TokenController],
      providers: [
        { provide: D1Door, useFactory: () => D1Door.create(settings) },
        { provide: D1ChangeCounters, useFactory: (pool: SqlPool) => new D1ChangeCounters(pool, routedVendors), inject: [SqlPool] },
      ],
      exports: [D1Door, D1ChangeCounters],
    };
  }

  /** OAuth2 token requests are forms (RFC 6749 4.4.2), which intake's JSON-only body parser refuses. */
  constructor(adapterHost: HttpAdapterHost) {
    acceptFormsAt(adapterHost.httpAdapter.getInstance(), [D1_TOKEN_PATH], 2 * 1024);
  }
}

export { D1OperatorController, D1PinManagementController };
