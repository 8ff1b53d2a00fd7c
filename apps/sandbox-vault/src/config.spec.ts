import { ConfigError, loadConfig } from '@pinflow/config';
import { sandboxConfigSchema } from './config';

describe("the Vault sandbox's configuration", () => {
  it('needs only a port: the rest defaults to a 2048-bit key, RSA-OAEP-256 and five-minute codes', () => {
    expect(loadConfig('sandbox-vault', sandboxConfigSchema, { PORT: '8093' })).toMatchObject({
      PORT: 8093,
      SANDBOX_CLIENT_ID: 'pinflow',
      SANDBOX_CLIENT_SECRET: 'sandbox-secret',
      SANDBOX_TOKEN_TTL_SECONDS: 300,
      VAULT_RSA_MODULUS_BITS: 2048,
      VAULT_RSA_PADDING: 'oaep-sha256',
      VAULT_CODE_TTL_SECONDS: 300,
    });
  });

  it('refuses a key size other than 2048, 3072 or 4096, and a padding it does not know, naming both', () => {
    const refusal = (() => {
      try {
        loadConfig('sandbox-vault', sandboxConfigSchema, { PORT: '8093', VAULT_RSA_MODULUS_BITS: '1024', VAULT_RSA_PADDING: 'oaep-md5' });
      } catch (error) {
        return error as ConfigError;
      }
    })();
    expect(refusal).toBeInstanceOf(ConfigError);
    expect(refusal?.problems).toEqual([expect.stringMatching(/^VAULT_RSA_MODULUS_BITS: must be 2048, 3072 or 4096/), expect.stringMatching(/^VAULT_RSA_PADDING: /)]);
  });
});
