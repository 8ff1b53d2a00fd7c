import { vault, VAULT_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { acceptablePin } from '../pins';
import { get, PreparedCall, put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, seeded, VendorPlatform } from '../vendor-platform';

/** Where the vendor's OAuth2 client credentials are exchanged for a token. */
const TOKEN_PATH = '/v2/auth/token';

export const platform: VendorPlatform<'vault'> = {
  contract: vault,
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: ({ sandboxUrl, oauthClient }) => ({ VAULT_BASE_URL: sandboxUrl, ...oauthClient('VAULT', TOKEN_PATH) }),
  scenario: {
    // Vault's card ids are int64.
    cardId: (index) => String(4_000_000_000 + index),
    // A one-time code replaces the card's earlier one and is used up by the change it authorises.
    oneChangePerCard: true,
    seed: async ({ sandboxUrl }, cardId) => {
      await put(`${sandboxUrl}/sandbox/cards/${cardId}`, {});
    },
    // The code Vault texted the cardholder, read from the sandbox's phone.
    request: async ({ sandboxUrl, pinKey }, cardId) => {
      const { code } = await get(`${sandboxUrl}/sandbox/cards/${cardId}/otp`, { method: 'POST' });
      return {
        path: `/v1/vault/cards/${cardId}/passcode`,
        body: { encryptedPasscode: await encryptSecret('passcode', acceptablePin(VAULT_PIN_RULES), pinKey), encryptedCode: await encryptSecret('oneTimeCode', code, pinKey) },
      };
    },
  },
  sandboxBench: {
    env: {},
    tokenPath: TOKEN_PATH,
    successStatus: 200,
    floor: { method: 'GET', route: '/v2/card/rsa-public-key', body: undefined },
    // A one-time code is used up by the call: one card, and one code texted to it, per call.
    async prepare(sandbox, count) {
      const { id: keyId, publicKey } = (await sandbox.call('GET', '/v2/card/rsa-public-key')).body;
      const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
      const calls: PreparedCall[] = [];
      for (let index = 0; index < count; index += 1) {
        const cardId = String(4_000_000_000 + index);
        await seeded(sandbox, `/sandbox/cards/${cardId}`, {});
        const { code } = (await sandbox.call('POST', `/sandbox/cards/${cardId}/otp`)).body;
        const passCode = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(acceptablePin(VAULT_PIN_RULES))).toString('base64');
        calls.push({ method: 'POST', route: `/v2/card/${cardId}/passcode/code/set`, body: { keyId, code, passCode } });
      }
      return calls;
    },
  },
  // The Vault sandbox never sees pinflow's command id: it counts passcodes per card, and each change has its own.
  applied: { operation: 'passcodeSets', key: 'cardId' },
};
