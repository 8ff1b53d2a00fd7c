import { DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from '@pinflow/http';
import { SandboxKitModule, sandboxLoggerModule } from '@pinflow/sandbox-kit';
import type { SandboxConfig } from './config';
import { ChangeRequests } from './change-requests';
import { PinKeys } from './pin-keys';
import { PinUpdates } from './pin-update';
import { SolarisRegistry } from './registry';
import { SandboxController } from './sandbox.controller';
import { CARD_ID_IN_PATH, SOLARIS_DIALECT, SOLARIS_OPERATIONS, TOKEN_PATH } from './solaris-http';
import { CardsController, ChangeRequestsController } from './vendor.controller';

const SERVICE = 'sandbox-solaris';

@Module({})
export class AppModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    const registry = new SolarisRegistry();
    let changeRequests: ChangeRequests | undefined;
    return {
      module: AppModule,
      imports: [
        sandboxLoggerModule(SERVICE, config.LOG_LEVEL),
        // Nothing to wait for: the PIN key exists before the sandbox listens.
        HealthModule.register({ inject: [], useFactory: () => [] }),
        SandboxKitModule.forRoot({
          service: SERVICE,
          settings: config,
          tokenPath: TOKEN_PATH,
          dialect: SOLARIS_DIALECT,
          cardIdInPath: CARD_ID_IN_PATH,
          appliedOperations: SOLARIS_OPERATIONS,
          onReset: () => {
            registry.clear();
            changeRequests?.clear();
          },
        }),
      ],
      controllers: [CardsController, ChangeRequestsController, SandboxController],
      providers: [
        { provide: SolarisRegistry, useValue: registry },
        { provide: PinKeys, useFactory: () => PinKeys.generate() },
        PinUpdates,
        {
          provide: ChangeRequests,
          inject: [PinUpdates],
          useFactory: (pinUpdates: PinUpdates) => (changeRequests = new ChangeRequests(pinUpdates, registry, config.SOLARIS_CHANGE_REQUEST_TTL_SECONDS * 1000)),
        },
      ],
    };
  }
}
