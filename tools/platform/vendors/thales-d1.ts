import { thalesD1, THALES_D1_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { acceptablePin, testPan } from '../pins';
import { put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, VendorPlatform, VendorWiring } from '../vendor-platform';

/** The issuer the Thales D1 sandbox (a card management system) serves. */
export const THALES_D1_ISSUER_ID = 'ISSUER0001';

const cmsKeyFile = ({ stateDir }: VendorWiring) => path.join(stateDir, 'thales-d1-cms-key.json');

export const thalesD1Platform: VendorPlatform<'thales-d1'> = {
  contract: thalesD1,
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ D1_ISSUER_ID: THALES_D1_ISSUER_ID, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: (wiring) => ({
    THALES_D1_BASE_URL: wiring.sandboxUrl,
    THALES_D1_CMS_PUBLIC_KEY_FILE: cmsKeyFile(wiring),
    ...wiring.oauthClient('THALES_D1', '/authz/d1/v1/oauth2/token'),
  }),
  // In production the card management system's key is exchanged at onboarding.
  onboard: async (wiring) => {
    const key = await fetch(`${wiring.sandboxUrl}/sandbox/encryption-key`).then((response) => response.text());
    writeFileSync(cmsKeyFile(wiring), key);
  },
  scenario: {
    cardId: (index) => `thales-d1-card-${index}`,
    // The sandbox never reveals a PAN, so the scenario remembers the ones it seeded.
    seed: async ({ sandboxUrl, memory }, cardId) => {
      const pan = testPan();
      await put(`${sandboxUrl}/sandbox/cards/${cardId}`, { pan });
      memory.set(`pan:${cardId}`, pan);
    },
    request: async ({ pinKey, memory }, cardId) => {
      const pan = memory.get(`pan:${cardId}`) as string | undefined;
      if (!pan) throw new Error(`card ${cardId} was not seeded`);
      return {
        path: `/v1/thales-d1/issuers/${THALES_D1_ISSUER_ID}/cards/${cardId}/pin`,
        body: { pinBlockFormat: 'ISO0', encryptedPin: await encryptSecret('pin', acceptablePin(THALES_D1_PIN_RULES, 6), pinKey), encryptedPan: await encryptSecret('pan', pan, pinKey) },
      };
    },
  },
  applied: { operation: 'pinSets', key: 'commandId' },
};

