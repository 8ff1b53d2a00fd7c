import { DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from '@pinflow/http';
import { SandboxKitModule, sandboxLoggerModule } from '@pinflow/sandbox-kit';
import { CardRegistry } from './card';
import type { SandboxConfig } from './config';
import { RsaKeyRing } from './rsa-keys';
import { SandboxController } from './sandbox.controller';
import { VAULT_DIALECT } from './vault-errors';
import { VAULT_OPERATIONS, VaultKnobs, vaultKnobsSchema } from './vault-knobs';
import { VaultSimulator } from './vault-simulator';
import { VaultCardController } from './vendor.controller';

const SERVICE = 'sandbox-vault';

/** Vault does not document how its clients get tokens: the sandbox serves OAuth2 client credentials here. */
export const TOKEN_PATH = '/v2/auth/token';

@Module({})
export class AppModule {
  static forRoot(config: SandboxConfig): DynamicModule {
    const cards = new CardRegistry();
    const vaultKnobs: VaultKnobs = { rsaPadding: config.VAULT_RSA_PADDING, codeTtlSeconds: config.VAULT_CODE_TTL_SECONDS };
    return {
      module: AppModule,
      imports: [
        sandboxLoggerModule(SERVICE, config.LOG_LEVEL),
        // Nothing to wait for: ready as soon as it listens (the key pair is made before).
        HealthModule.register({ inject: [], useFactory: () => [] }),
        SandboxKitModule.forRoot({
          service: SERVICE,
          settings: config,
          tokenPath: TOKEN_PATH,
          dialect: VAULT_DIALECT,
          cardIdInPath: /^\/v2\/card\/([^/]+)\/passcode\//,
          appliedOperations: VAULT_OPERATIONS,
          vendorKnobs: { schema: vaultKnobsSchema, defaults: vaultKnobs },
          onReset: () => cards.clear(),
        }),
      ],
      controllers: [VaultCardController, SandboxController],
      providers: [{ provide: CardRegistry, useValue: cards }, { provide: RsaKeyRing, useFactory: () => RsaKeyRing.generate(config.VAULT_RSA_MODULUS_BITS) }, VaultSimulator],
    };
  }
}
