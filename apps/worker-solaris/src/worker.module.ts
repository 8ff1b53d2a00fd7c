import type { DynamicModule } from '@nestjs/common';
import { clientCredentialsFrom, OAuth2HttpClient, retryPolicyFrom, WorkerKitModule } from '@pinflow/worker-kit';
import type { WorkerConfig } from './config';
import { SolarisAdapter } from './solaris-adapter';
import { SolarisClient } from './solaris/solaris-client';

/** The worker kit, given Solaris: its adapter and client. Solaris publishes no events about PIN changes. */
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    // Solaris' token endpoint takes the client credentials as HTTP Basic.
    const http = new OAuth2HttpClient({ ...clientCredentialsFrom('SOLARIS', config, 'basic'), timeoutMs: config.SOLARIS_HTTP_TIMEOUT_MS });
    return WorkerKitModule.forRoot({
      vendor: 'solaris',
      config,
      retryPolicy: retryPolicyFrom('SOLARIS', config),
      adapter: SolarisAdapter,
      providers: [{ provide: SolarisClient, useValue: new SolarisClient(http, config.SOLARIS_BASE_URL) }],
    });
  }
}
