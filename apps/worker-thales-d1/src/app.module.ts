import type { DynamicModule } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { COMMAND_KEYS, openCommandKeys } from '@pinflow/pin-crypto';
import { clientCredentialsFrom, OAuth2HttpClient, retryPolicyFrom, WORKER_LOGGER, WorkerKitModule } from '@pinflow/worker-kit';
import type { WorkerConfig } from './config';
import { CmsClient } from './d1/cms-client';
import { CmsEncryptionKey, loadCmsEncryptionKey } from './d1/cms-key';
import { ThalesD1Adapter } from './thales-d1-adapter';

/** The worker kit, given Thales D1: pinflow plays D1 towards the issuer's card management system. */
export class AppModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    // A CMS's token endpoint takes D1's client credentials as HTTP Basic.
    const http = new OAuth2HttpClient({ ...clientCredentialsFrom('THALES_D1', config, 'basic'), timeoutMs: config.THALES_D1_HTTP_TIMEOUT_MS });
    return WorkerKitModule.forRoot({
      vendor: 'thales-d1',
      config,
      retryPolicy: retryPolicyFrom('THALES_D1', config),
      adapter: ThalesD1Adapter,
      providers: [
        { provide: COMMAND_KEYS, inject: [WORKER_LOGGER], useFactory: (logger: Logger) => openCommandKeys(config, logger) },
        { provide: CmsEncryptionKey, useFactory: () => loadCmsEncryptionKey(config.THALES_D1_CMS_PUBLIC_KEY_FILE) },
        { provide: CmsClient, useValue: new CmsClient(http, config.THALES_D1_BASE_URL) },
      ],
    });
  }
}
