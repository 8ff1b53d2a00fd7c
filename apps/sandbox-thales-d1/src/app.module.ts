import { DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from '@pinflow/http';
import { SandboxKitModule, sandboxLoggerModule } from '@pinflow/sandbox-kit';
import { CardRegistry } from './card-registry';
import { APPLIED_OPERATIONS, PinManagementController, SANDBOX_CONFIG } from './cms.controller';
import { CmsSimulator } from './cms-simulator';
import type { SandboxConfig } from './config';
import { CMS_CARD_PATH, CORRELATION_HEADER, D1_DIALECT, TOKEN_PATH, TOKEN_SCOPE } from './d1-http';
import { CallerKey, CmsEncryptionKey } from './d1-jwe';
import { PinVault } from './pin-vault';
import { CmsHooksController } from './sandbox.controller';

const SERVICE = 'sandbox-thales-d1';

@Module({})
export class AppModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    const registry = new CardRegistry();
    return {
      module: AppModule,
      imports: [
        sandboxLoggerModule(SERVICE, config.LOG_LEVEL),
        SandboxKitModule.forRoot({
          service: SERVICE,
          settings: config,
          tokenPath: TOKEN_PATH,
          tokenScope: TOKEN_SCOPE,
          dialect: D1_DIALECT,
          cardIdInPath: CMS_CARD_PATH,
          correlationHeader: CORRELATION_HEADER,
          appliedOperations: APPLIED_OPERATIONS,
          onReset: () => registry.clear(),
        }),
        // Nothing to wait for: the CMS is ready once it listens.
        HealthModule.register({ inject: [], useFactory: () => [] }),
      ],
      controllers: [PinManagementController, CmsHooksController],
      providers: [
        { provide: SANDBOX_CONFIG, useValue: config },
        { provide: CardRegistry, useValue: registry },
        { provide: CmsEncryptionKey, useFactory: () => CmsEncryptionKey.generate() },
        CallerKey,
        PinVault,
        CmsSimulator,
      ],
    };
  }
}
