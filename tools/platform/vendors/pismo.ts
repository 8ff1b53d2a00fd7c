import { pismo, PISMO_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acceptablePin } from '../pins';
import { BENCH_CARD_POOL, put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, seeded, VendorPlatform, VendorWiring } from '../vendor-platform';

/** Where the Pismo sandbox publishes Pismo's own events (as Pismo does to its clients' streams). */
export const PISMO_EVENTS_TOPIC = 'pismo.events';

/** Where the vendor's OAuth2 client credentials are exchanged for a token. */
const TOKEN_PATH = '/passport/v1/oauth2/token';

/**
 * The zone PIN key worker and sandbox share for PIN blocks, made on first use and kept with the other
 * dev keys; in production Pismo's security team hands it over.
 */
export function pismoZpkFile({ stateDir }: VendorWiring): string {
  const file = path.join(stateDir, 'pismo-zpk.json');
  if (!existsSync(file)) writeFileSync(file, JSON.stringify({ keyId: randomUUID(), key: randomBytes(16).toString('hex').toUpperCase() }), { mode: 0o600 });
  return file;
}

export const platform: VendorPlatform<'pismo'> = {
  contract: pismo,
  workerReadsPinKeys: true,
  sandboxEnv: (wiring) => ({ PISMO_EVENTS_TOPIC, PISMO_ZPK_FILE: pismoZpkFile(wiring), SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: (wiring) => ({
    PISMO_PCI_BASE_URL: wiring.sandboxUrl,
    PISMO_API_BASE_URL: wiring.sandboxUrl,
    PISMO_EVENTS_TOPIC,
    PISMO_ZPK_FILE: pismoZpkFile(wiring),
    ...wiring.oauthClient('PISMO', TOKEN_PATH),
  }),
  // Pismo's own event connector, which the sandbox plays, and the worker that turns its events into pinflow's.
  kafkaGrants: {
    worker: [{ resource: 'topic', name: PISMO_EVENTS_TOPIC, operations: ['DESCRIBE', 'CREATE', 'READ'] }],
    sandbox: [{ resource: 'topic', name: PISMO_EVENTS_TOPIC, operations: ['DESCRIBE', 'CREATE', 'WRITE'] }],
  },
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
  sandboxBench: {
    needsKafka: true,
    env: { PISMO_EVENTS_TOPIC: `bench.pismo.events.${randomUUID()}` },
    tokenPath: TOKEN_PATH,
    successStatus: 201,
    floor: { method: 'POST', route: '/wallet/v2/cards/bench-card-0/password-tries/reset', body: undefined, headers: { 'x-cid': 'bench-floor' } },
    async prepare(sandbox, count) {
      const cards = Array.from({ length: BENCH_CARD_POOL }, (_, index) => `bench-card-${index}`);
      for (const cardId of cards) await seeded(sandbox, `/sandbox/cards/${cardId}`, { status: 'NORMAL' });
      return Array.from({ length: count }, (_, index) => ({
        method: 'PUT',
        route: `/pcicards/v2/pcicards/card/${cards[index % BENCH_CARD_POOL]}`,
        body: { pin: acceptablePin(PISMO_PIN_RULES, 6), sync_offline_pin: false },
        headers: { 'x-cid': randomUUID() },
      }));
    },
  },
  applied: { operation: 'pinChanges', key: 'commandId' },
};
