import type { DynamicModule } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { COMMAND_KEYS, openCommandKeys } from '@pinflow/pin-crypto';
import { clientCredentialsFrom, OAuth2HttpClient, retryPolicyFrom, WORKER_LOGGER, WorkerKitModule } from '@pinflow/worker-kit';
import type { WorkerConfig } from './config';
import { VAULT_RSA_PADDING, VaultAdapter } from './vault-adapter';
import { VaultClient } from './vault/vault-client';
import { VaultKeys } from './vault/vault-keys';

/** The worker kit, given Vault: its adapter, its client and its RSA key. Vault publishes no events. */
export class AppModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    const http = new OAuth2HttpClient({ ...clientCredentialsFrom('VAULT', config, 'body'), timeoutMs: config.VAULT_HTTP_TIMEOUT_MS });
    const vault = new VaultClient(http, config.VAULT_BASE_URL);
    return WorkerKitModule.forRoot({
      vendor: 'vault',
      config,
      retryPolicy: retryPolicyFrom('VAULT', config),
      adapter: VaultAdapter,
      providers: [
        { provide: COMMAND_KEYS, inject: [WORKER_LOGGER], useFactory: (logger: Logger) => openCommandKeys(config, logger) },
        { provide: VaultClient, useValue: vault },
        { provide: VaultKeys, useValue: new VaultKeys(() => vault.publicKey()) },
        { provide: VAULT_RSA_PADDING, useValue: config.VAULT_RSA_PADDING },
      ],
    });
  }
}
