import type { DynamicModule } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { COMMAND_KEYS, openCommandKeys } from '@pinflow/pin-crypto';
import { clientCredentialsFrom, OAuth2HttpClient, retryPolicyFrom, WORKER_LOGGER, WorkerKitModule } from '@pinflow/worker-kit';
import type { WorkerConfig } from './config';
import { SolarisAdapter } from './solaris-adapter';
import { SolarisClient } from './solaris/solaris-client';

/** The worker kit, given Solaris: its adapter, its client and its command keys (for TANs). Solaris publishes no events about PIN changes. */
export class AppModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    // Solaris' token endpoint takes the client credentials as HTTP Basic.
    const http = new OAuth2HttpClient({ ...clientCredentialsFrom('SOLARIS', config, 'basic'), timeoutMs: config.SOLARIS_HTTP_TIMEOUT_MS });
    return WorkerKitModule.forRoot({
      vendor: 'solaris',
      config,
      retryPolicy: retryPolicyFrom('SOLARIS', config),
      adapter: SolarisAdapter,
      providers: [
        { provide: COMMAND_KEYS, inject: [WORKER_LOGGER], useFactory: (logger: Logger) => openCommandKeys(config, logger) },
        { provide: SolarisClient, useValue: new SolarisClient(http, config.SOLARIS_BASE_URL) },
      ],
    });
  }
}
