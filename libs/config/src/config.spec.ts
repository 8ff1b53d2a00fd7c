import { z } from 'zod';
import { commaList, ConfigError, loadConfig, port, removedSetting } from './index';

const schema = z.object({ KAFKA_BROKERS: commaList, PORT: port.default(8080), SECRET: z.string().min(32) });

describe('service configuration', () => {
  it('parses and defaults what the environment gives', () => {
    expect(loadConfig('svc', schema, { KAFKA_BROKERS: 'a:9092, b:9092', SECRET: 'x'.repeat(32) })).toEqual({ KAFKA_BROKERS: ['a:9092', 'b:9092'], PORT: 8080, SECRET: 'x'.repeat(32) });
  });

  it('refuses to start listing every bad variable by name, never quoting a value', () => {
    const attempt = () => loadConfig('svc', schema, { PORT: 'eighty', SECRET: 'too-short-secret-value' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('svc refuses to start');
      expect(message).toMatch(/KAFKA_BROKERS/);
      expect(message).toMatch(/PORT/);
      expect(message).toMatch(/SECRET/);
      expect(message).not.toContain('too-short-secret-value');
      expect(message).not.toContain('eighty');
    }
  });

  it('refuses to start when a removed setting is still given, naming it and what replaced it', () => {
    const withRemoved = z.object({ PORT: port.default(8080), OLD_SETTING: removedSetting('use NEW_SETTING instead') });
    expect(loadConfig('svc', withRemoved, {})).toEqual({ PORT: 8080 });
    expect(() => loadConfig('svc', withRemoved, { OLD_SETTING: '30' })).toThrow(/OLD_SETTING: was removed: use NEW_SETTING instead/);
  });
});
