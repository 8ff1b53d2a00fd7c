import { DynamicModule, Inject, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { acceptFormsAt } from '@pinflow/http';
import type { FastifyInstance } from 'fastify';
import { CallLog } from './call-log';
import { defaultKnobs, FaultInjector } from './faults';
import { SandboxHooksController } from './hooks.controller';
import { SANDBOX_KIT_OPTIONS, type SandboxKitOptions } from './options';
import { logsDebug, summariseRequests } from './request-log';
import { tokenControllerAt } from './token.controller';
import { TokenIssuer } from './tokens';
import { BeforeEndpointErrorFilter, recordVendorCalls } from './vendor-http';

/** The token endpoint also takes its credentials as a form. */
const FORM_LIMIT_BYTES = 8 * 1024;

/**
 * What every vendor sandbox shares: the token endpoint, bearer tokens, call records, applied counts,
 * the drills and their knobs, and the `/sandbox` hooks for them. The sandbox adds its vendor
 * endpoints (marked `@VendorEndpoints()`), its cards and its hooks for them.
 */
@Module({})
export class SandboxKitModule {
  static forRoot(options: SandboxKitOptions): DynamicModule {
    const faults = new FaultInjector(
      { ...defaultKnobs(options.settings.SANDBOX_TOKEN_TTL_SECONDS), ...options.vendorKnobs?.defaults },
      { vendorKnobs: options.vendorKnobs?.schema },
    );
    return {
      module: SandboxKitModule,
      controllers: [tokenControllerAt(options.tokenPath), SandboxHooksController],
      providers: [
        { provide: SANDBOX_KIT_OPTIONS, useValue: options },
        { provide: FaultInjector, useValue: faults },
        { provide: CallLog, useValue: new CallLog(options.appliedOperations) },
        TokenIssuer,
        BeforeEndpointErrorFilter,
      ],
      // Also what the guard and the filter of `@VendorEndpoints()` need: Nest builds them in the module
      // of the controller they guard.
      exports: [SANDBOX_KIT_OPTIONS, FaultInjector, CallLog, TokenIssuer],
    };
  }

  constructor(adapterHost: HttpAdapterHost, @Inject(SANDBOX_KIT_OPTIONS) options: SandboxKitOptions, calls: CallLog, faults: FaultInjector) {
    const fastify: FastifyInstance = adapterHost.httpAdapter.getInstance();
    // The summary only where debug is logged, so that no request pays for a line nobody writes.
    if (logsDebug(options.settings.LOG_LEVEL)) fastify.addHook('onRequest', summariseRequests());
    fastify.addHook('onRequest', recordVendorCalls(calls, faults, options));
    acceptFormsAt(fastify, [options.tokenPath], FORM_LIMIT_BYTES);
  }
}
