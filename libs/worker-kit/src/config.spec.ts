import { z } from 'zod';
import { clientCredentialsConfig, clientCredentialsFrom, retryPolicyFrom, vendorCallConfig, workerConfig } from './config';

const base = { PORT: '0', KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgresql://localhost/pinflow', MESSAGE_SIGNING_KEY_FILE: 'message-key.json', MESSAGE_SIGNERS_FILE: 'signers.json' };

describe('worker configuration', () => {
  const schema = z.object({ ...workerConfig('vault'), ...vendorCallConfig('VAULT'), ...clientCredentialsConfig('VAULT') });
  const credentials = { VAULT_TOKEN_URL: 'https://vault.example/oauth2/token', VAULT_CLIENT_ID: 'pinflow', VAULT_CLIENT_SECRET: 's3cret' };

  it('names the command group after the vendor and defaults how the vendor is called', () => {
    const config = schema.parse({ ...base, ...credentials });

    expect(config).toMatchObject({
      WORKER_COMMAND_GROUP: 'pinflow-worker-vault',
      WORKER_COMMANDS_IN_FLIGHT: 512,
      WORKER_REPUBLISH_AFTER_MS: 30_000,
      VAULT_HTTP_TIMEOUT_MS: 5000,
      VAULT_MAX_ATTEMPTS: 4,
      VAULT_RETRY_BASE_MS: 200,
      VAULT_BREAKER_THRESHOLD: 5,
      VAULT_BREAKER_COOLDOWN_MS: 10_000,
    });
    expect(retryPolicyFrom('VAULT', config)).toEqual({ maxAttempts: 4, baseDelayMs: 200, breaker: { threshold: 5, cooldownMs: 10_000 } });
    expect(clientCredentialsFrom('VAULT', config, 'basic')).toEqual({
      tokenUrl: 'https://vault.example/oauth2/token',
      clientId: 'pinflow',
      clientSecret: 's3cret',
      authStyle: 'basic',
    });
  });

  it('reads the breaker settings named after the vendor', () => {
    const config = schema.parse({ ...base, ...credentials, VAULT_BREAKER_THRESHOLD: '3', VAULT_BREAKER_COOLDOWN_MS: '2500' });
    expect(retryPolicyFrom('VAULT', config).breaker).toEqual({ threshold: 3, cooldownMs: 2500 });
  });

  it('passes a configured scope on', () => {
    const config = schema.parse({ ...base, ...credentials, VAULT_TOKEN_SCOPE: 'cards:pin' });
    expect(clientCredentialsFrom('VAULT', config, 'body')).toMatchObject({ scope: 'cards:pin' });
  });

  it.each([
    ['a missing client secret', { VAULT_CLIENT_SECRET: undefined }, 'VAULT_CLIENT_SECRET'],
    ['a token URL that is no URL', { VAULT_TOKEN_URL: 'vault/token' }, 'VAULT_TOKEN_URL'],
    ['zero attempts', { VAULT_MAX_ATTEMPTS: '0' }, 'VAULT_MAX_ATTEMPTS'],
    ['a circuit that never opens', { VAULT_BREAKER_THRESHOLD: '0' }, 'VAULT_BREAKER_THRESHOLD'],
    ['no command in flight', { WORKER_COMMANDS_IN_FLIGHT: '0' }, 'WORKER_COMMANDS_IN_FLIGHT'],
    ['more commands in flight than the worker can hold', { WORKER_COMMANDS_IN_FLIGHT: '100000' }, 'WORKER_COMMANDS_IN_FLIGHT'],
  ])('refuses %s', (_case, override, variable) => {
    const result = schema.safeParse({ ...base, ...credentials, ...override });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([variable]);
  });
});
