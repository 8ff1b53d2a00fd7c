import { pismo, PISMO_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { acceptablePin } from '../pins';
import { put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, VendorPlatform } from '../vendor-platform';

/** Where the Pismo sandbox publishes Pismo's own events (as Pismo does to its clients' streams). */
export const PISMO_EVENTS_TOPIC = 'pismo.events';

export const pismoPlatform: VendorPlatform<'pismo'> = {
  contract: pismo,
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ PISMO_EVENTS_TOPIC, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: ({ sandboxUrl, oauthClient }) => ({
    PISMO_PCI_BASE_URL: sandboxUrl,
    PISMO_API_BASE_URL: sandboxUrl,
    PISMO_EVENTS_TOPIC,
    ...oauthClient('PISMO', '/passport/v1/oauth2/token'),
  }),
  // A Pismo change whose event never comes fails OUTCOME_UNKNOWN after this, well inside a drill's recovery window.
  drillWorkerEnv: { PISMO_EVENT_TIMEOUT_MS: '60000' },
  scenario: {
    cardId: (index) => `pismo-card-${index}`,
    seed: async ({ sandboxUrl }, cardId) => {
      await put(`${sandboxUrl}/sandbox/cards/${cardId}`, { status: 'NORMAL' });
    },
    request: async ({ pinKey }, cardId) => ({
      path: `/v1/pismo/cards/${cardId}/pin`,
      body: { encryptedPin: await encryptSecret('pin', acceptablePin(PISMO_PIN_RULES, 6), pinKey) },
    }),
  },
  applied: { operation: 'pinChanges', key: 'commandId' },
};
