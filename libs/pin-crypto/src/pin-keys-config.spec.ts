import { ConfigError, loadConfig } from '@pinflow/config';
import { z } from 'zod';
import { commandKeysConfig, pinKeysConfig } from './pin-keys-config';

describe('key file settings', () => {
  it.each([
    ['PIN keys', pinKeysConfig, { PIN_KEYS_FILE: '/run/secrets/pin-keys' }],
    ['command keys', commandKeysConfig, { COMMAND_KEYS_FILE: '/run/secrets/command-keys' }],
  ])('refuse to start with the removed KEYS_GRACE_PERIOD_SECONDS (%s), pointing to notAfter in the key file', (_name, config, files) => {
    const schema = z.object(config);
    expect(() => loadConfig('svc', schema, files)).not.toThrow();
    const attempt = () => loadConfig('svc', schema, { ...files, KEYS_GRACE_PERIOD_SECONDS: '3600' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/KEYS_GRACE_PERIOD_SECONDS: was removed: write "notAfter" .* in the key file instead/);
  });
});
