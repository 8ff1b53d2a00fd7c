import { solaris, SOLARIS_PIN_RULES } from '@pinflow/contracts';
import { SolarisDevice, SolarisPinJwk } from '@pinflow/testing';
import { createHash } from 'node:crypto';
import { acceptablePin } from '../pins';
import { BENCH_CARD_POOL, get, PreparedCall, put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, seeded, VendorPlatform, VendorWiring } from '../vendor-platform';

const solarisClient = ({ sandboxUrl, oauthClient }: VendorWiring) => ({ SOLARIS_BASE_URL: sandboxUrl, ...oauthClient('SOLARIS', TOKEN_PATH) });

/** Where the vendor's OAuth2 client credentials are exchanged for a token. */
const TOKEN_PATH = '/oauth2/token';

export const platform: VendorPlatform<'solaris'> = {
  contract: solaris,
  // For the TAN that confirms a change request.
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: solarisClient,
  // intake serves Solaris' PIN key to cardholders' devices.
  intakeEnv: solarisClient,
  scenario: {
    cardId: (index) => `solaris-card-${index}`,
    // The cardholder's device, bound to their person at Solaris, encrypts and signs the PIN.
    seed: async ({ sandboxUrl, memory }, cardId) => {
      const device = new SolarisDevice();
      const personId = `person-${cardId}`;
      await put(`${sandboxUrl}/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex });
      await put(`${sandboxUrl}/sandbox/cards/${cardId}`, { personId });
      memory.set(`device:${cardId}`, device);
    },
    request: async ({ intakeUrl, token, memory }, cardId) => {
      const device = memory.get(`device:${cardId}`) as SolarisDevice | undefined;
      if (!device) throw new Error(`card ${cardId} was not seeded`);
      if (!memory.has('pinKey')) memory.set('pinKey', await get(`${intakeUrl}/v1/solaris/pin-key`, { headers: { authorization: `Bearer ${token}` } }));
      const signed = await device.encryptAndSign(acceptablePin(SOLARIS_PIN_RULES), memory.get('pinKey') as SolarisPinJwk);
      return { path: `/v1/solaris/cards/${cardId}/pin`, body: { deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature } };
    },
  },
  sandboxBench: {
    env: {},
    tokenPath: TOKEN_PATH,
    successStatus: 201,
    floor: { method: 'GET', route: '/v1/cards/pin_keys/latest', body: undefined },
    async prepare(sandbox, count) {
      const cards = [];
      for (let index = 0; index < BENCH_CARD_POOL; index += 1) {
        const device = new SolarisDevice();
        const cardId = `bench-card-${index}`;
        await seeded(sandbox, `/sandbox/persons/person-${index}/devices/${device.id}`, { publicKey: device.publicKeyHex });
        await seeded(sandbox, `/sandbox/cards/${cardId}`, { personId: `person-${index}` });
        cards.push({ cardId, device });
      }
      const pinKey = (await sandbox.call('GET', '/v1/cards/pin_keys/latest')).body;
      const calls: PreparedCall[] = [];
      for (let index = 0; index < count; index += 1) {
        const { cardId, device } = cards[index % BENCH_CARD_POOL];
        const signed = await device.encryptAndSign(acceptablePin(SOLARIS_PIN_RULES), pinKey);
        calls.push({ method: 'POST', route: `/v1/cards/${cardId}/pin_update_requests`, body: { device_id: device.id, ...signed } });
      }
      return calls;
    },
  },
  // The Solaris sandbox never sees pinflow's command id: it counts by the device JWE's digest.
  applied: { operation: 'pinChanges', key: (request) => createHash('sha256').update(String(request.body.encryptedPin)).digest('hex') },
};
