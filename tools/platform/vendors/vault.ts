import { vault, VAULT_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret } from '@pinflow/pin-crypto';
import { acceptablePin } from '../pins';
import { get, put, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, VendorPlatform } from '../vendor-platform';

export const vaultPlatform: VendorPlatform<'vault'> = {
  contract: vault,
  workerReadsPinKeys: true,
  sandboxEnv: () => ({ SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET }),
  workerEnv: ({ sandboxUrl, oauthClient }) => ({ VAULT_BASE_URL: sandboxUrl, ...oauthClient('VAULT', '/v2/auth/token') }),
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
  // The Vault sandbox never sees pinflow's command id: it counts passcodes per card, and each change has its own.
  applied: { operation: 'passcodeSets', key: 'cardId' },
};
