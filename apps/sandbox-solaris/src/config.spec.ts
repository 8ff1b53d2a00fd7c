import { ConfigError, loadConfig } from '@pinflow/config';
import { sandboxConfigSchema } from './config';

describe("the Solaris sandbox's configuration", () => {
  it('needs only a port: change requests live five minutes unless configured otherwise', () => {
    expect(loadConfig('sandbox-solaris', sandboxConfigSchema, { PORT: '8091' })).toMatchObject({ PORT: 8091, SOLARIS_CHANGE_REQUEST_TTL_SECONDS: 300 });
    expect(loadConfig('sandbox-solaris', sandboxConfigSchema, { PORT: '8091', SOLARIS_CHANGE_REQUEST_TTL_SECONDS: '30' })).toMatchObject({ SOLARIS_CHANGE_REQUEST_TTL_SECONDS: 30 });
  });

  it('refuses a change request lifetime that is not a positive number of seconds', () => {
    for (const ttl of ['0', '-5', 'soon']) {
      expect(() => loadConfig('sandbox-solaris', sandboxConfigSchema, { PORT: '8091', SOLARIS_CHANGE_REQUEST_TTL_SECONDS: ttl })).toThrow(ConfigError);
    }
  });
});
