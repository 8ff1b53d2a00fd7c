import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { SqlPool } from '@pinflow/sql';
import { urlencoded } from 'express';
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
export class D1InboundModule implements NestModule {
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

  /** OAuth2 token requests are forms (RFC 6749 4.4.2), which intake's JSON-only body parser leaves unread. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(urlencoded({ extended: false, limit: '2kb', inflate: false, parameterLimit: 10 })).forRoutes({ path: D1_TOKEN_PATH, method: RequestMethod.POST });
  }
}

export { D1OperatorController, D1PinManagementController };
