import { thalesD1, THALES_D1_PIN_RULES } from '@pinflow/contracts';
import { encodeIso0 } from '@pinflow/pin-block';
import { encryptSecret } from '@pinflow/pin-crypto';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { acceptablePin, testPan } from '../pins';
import { BENCH_CARD_POOL, PreparedCall, put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, seeded, VendorPlatform, VendorWiring } from '../vendor-platform';

/** The issuer the Thales D1 sandbox (a card management system) serves. */
export const THALES_D1_ISSUER_ID = 'ISSUER0001';

const cmsKeyFile = ({ stateDir }: VendorWiring) => path.join(stateDir, 'thales-d1-cms-key.json');

/** Where the vendor's OAuth2 client credentials are exchanged for a token. */
const TOKEN_PATH = '/authz/d1/v1/oauth2/token';

export const platform: VendorPlatform<'thales-d1'> = {
  contract: thalesD1,
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ D1_ISSUER_ID: THALES_D1_ISSUER_ID, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: (wiring) => ({
    THALES_D1_BASE_URL: wiring.sandboxUrl,
    THALES_D1_CMS_PUBLIC_KEY_FILE: cmsKeyFile(wiring),
    ...wiring.oauthClient('THALES_D1', TOKEN_PATH),
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
  sandboxBench: {
    env: { D1_ISSUER_ID: THALES_D1_ISSUER_ID },
    tokenPath: TOKEN_PATH,
    successStatus: 204,
    floor: { method: 'GET', route: `/cms/api/v1/issuers/${THALES_D1_ISSUER_ID}/cards/bench-card-0/pin/changeCounter`, body: undefined },
    async prepare(sandbox, count) {
      const cards = [];
      for (let index = 0; index < BENCH_CARD_POOL; index += 1) {
        const cardId = `bench-card-${index}`;
        const pan = testPan();
        await seeded(sandbox, `/sandbox/cards/${cardId}`, { pan });
        cards.push({ cardId, pan });
      }
      const cmsJwk = (await sandbox.call('GET', '/sandbox/encryption-key')).body as JWK;
      const cmsKey = await importJWK(cmsJwk, 'ECDH-ES');
      const calls: PreparedCall[] = [];
      for (let index = 0; index < count; index += 1) {
        const { cardId, pan } = cards[index % BENCH_CARD_POOL];
        const block = JSON.stringify({ format: 'ISO0', pinBlock: encodeIso0(acceptablePin(THALES_D1_PIN_RULES, 6), pan) });
        const encryptedPinBlock = await new CompactEncrypt(new TextEncoder().encode(block))
          .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: cmsJwk.kid })
          .encrypt(cmsKey);
        calls.push({
          method: 'PUT',
          route: `/cms/api/v1/issuers/${THALES_D1_ISSUER_ID}/cards/${cardId}/pin`,
          body: { type: 'ISO0', encryptedPinBlock },
          headers: { 'x-correlation-id': randomUUID() },
        });
      }
      return calls;
    },
  },
  applied: { operation: 'pinSets', key: 'commandId' },
};

