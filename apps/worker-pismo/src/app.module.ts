import type { DynamicModule } from '@nestjs/common';
import type { Logger } from '@pinflow/logging';
import { COMMAND_KEYS, openCommandKeys } from '@pinflow/pin-crypto';
import { clientCredentialsFrom, OAuth2HttpClient, retryPolicyFrom, WORKER_LOGGER, WorkerKitModule } from '@pinflow/worker-kit';
import type { WorkerConfig } from './config';
import { PismoAdapter } from './pismo-adapter';
import { pismoEvent, routePismoEvent } from './pismo-events';
import { PismoClient } from './pismo/pismo-client';
import { loadZonePinKey, ZonePinKey } from './pismo/zone-pin-key';

/** The worker kit, given Pismo: its adapter and client, and the topic of its own events. */
export class AppModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    const http = new OAuth2HttpClient({ ...clientCredentialsFrom('PISMO', config, 'body'), timeoutMs: config.PISMO_HTTP_TIMEOUT_MS });
    return WorkerKitModule.forRoot({
      vendor: 'pismo',
      config,
      retryPolicy: retryPolicyFrom('PISMO', config),
      adapter: PismoAdapter,
      vendorEvents: {
        topic: config.PISMO_EVENTS_TOPIC,
        groupId: config.WORKER_VENDOR_EVENT_GROUP,
        schema: pismoEvent,
        route: routePismoEvent,
        timeoutMs: config.PISMO_EVENT_TIMEOUT_MS,
      },
      providers: [
        { provide: COMMAND_KEYS, inject: [WORKER_LOGGER], useFactory: (logger: Logger) => openCommandKeys(config, logger) },
        { provide: ZonePinKey, useFactory: () => loadZonePinKey(config.PISMO_ZPK_FILE) },
        { provide: PismoClient, useValue: new PismoClient(http, { pciBaseUrl: config.PISMO_PCI_BASE_URL, apiBaseUrl: config.PISMO_API_BASE_URL }) },
      ],
    });
  }
}
