import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { CallLog } from './call-log';
import { defaultKnobs, FaultInjector } from './faults';
import { SandboxHooksController } from './hooks.controller';
import { SANDBOX_KIT_OPTIONS, type SandboxKitOptions } from './options';
import { logsDebug, RequestSummaryMiddleware } from './request-log';
import { tokenControllerAt } from './token.controller';
import { TokenIssuer } from './tokens';
import { FormBodyMiddleware, unparsableBodyHandler, VendorCallMiddleware } from './vendor-http';

/**
 * What every vendor sandbox shares: the token endpoint, bearer tokens, call records, applied counts,
 * the drills and their knobs, and the `/sandbox` hooks for them. The sandbox adds its vendor
 * endpoints (marked `@VendorEndpoints()`), its cards and its hooks for them.
 */
@Module({})
export class SandboxKitModule implements NestModule {
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
        VendorCallMiddleware,
        RequestSummaryMiddleware,
      ],
      // Also what the guard and the filter of `@VendorEndpoints()` need: Nest builds them in the module
      // of the controller they guard.
      exports: [SANDBOX_KIT_OPTIONS, FaultInjector, CallLog, TokenIssuer],
    };
  }

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SANDBOX_KIT_OPTIONS) private readonly options: SandboxKitOptions,
    private readonly vendorCalls: VendorCallMiddleware,
    private readonly requestSummary: RequestSummaryMiddleware,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const { httpAdapter } = this.adapterHost;
    // Added here, after the shared JSON body parser and before any route, so that it sees the
    // parser's errors before Nest turns them into responses.
    httpAdapter.use(unparsableBodyHandler(this.options));
    // Every request, as plain Express middleware: Nest's own would match each one against a route
    // pattern first, for nothing. The summary only where debug is logged, so that no request pays
    // for a line nobody writes.
    if (logsDebug(this.options.settings.LOG_LEVEL)) {
      httpAdapter.use((request: Request, response: Response, next: NextFunction) => this.requestSummary.use(request, response, next));
    }
    // The middleware itself leaves the sandbox's own paths alone, so that calls to vendor paths the
    // sandbox does not serve are recorded too.
    httpAdapter.use((request: Request, response: Response, next: NextFunction) => this.vendorCalls.use(request, response, next));
    consumer.apply(FormBodyMiddleware).forRoutes({ path: this.options.tokenPath, method: RequestMethod.POST });
  }
}
