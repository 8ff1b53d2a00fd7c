import { ConfigError, loadConfig } from '@pinflow/config';
import { auditConfigSchema } from './config';

describe('audit configuration', () => {
  const env = {
    PORT: '8083',
    KAFKA_BROKERS: '127.0.0.1:9092',
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/pinflow',
    AUTH_ISSUER: 'https://issuer.example',
    AUTH_AUDIENCE: 'pinflow',
    AUTH_PUBLIC_KEY_FILE: '/etc/pinflow/auth.pub.json',
    MESSAGE_SIGNERS_FILE: '/etc/pinflow/message-signers.json',
  };

  it('needs only the listener, broker, database, token issuer and trusted message signers; the consumer group has a default', () => {
    const config = loadConfig('audit', auditConfigSchema, env);
    expect(config).toMatchObject({
      PORT: 8083,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      AUDIT_CONSUMER_GROUP: 'pinflow-audit',
      AUDIT_DATABASE_ROLE: 'pinflow_audit_writer',
      LOG_LEVEL: 'info',
    });
  });

  it('takes only a plain role name for its database sessions, since it becomes a start-up option', () => {
    expect(() => loadConfig('audit', auditConfigSchema, { ...env, AUDIT_DATABASE_ROLE: 'writer -c role=postgres' })).toThrow(/AUDIT_DATABASE_ROLE: must be a PostgreSQL role name/);
  });

  it('refuses to start with both token key sources, or with neither', () => {
    const both = { ...env, AUTH_JWKS_URL: 'https://issuer.example/jwks' };
    const neither = { ...env, AUTH_PUBLIC_KEY_FILE: undefined };
    for (const candidate of [both, neither]) {
      expect(() => loadConfig('audit', auditConfigSchema, candidate)).toThrow(ConfigError);
      expect(() => loadConfig('audit', auditConfigSchema, candidate)).toThrow(/AUTH_JWKS_URL: Set exactly one of AUTH_JWKS_URL and AUTH_PUBLIC_KEY_FILE/);
    }
  });

  it('names every missing variable at once', () => {
    expect(() => loadConfig('audit', auditConfigSchema, {})).toThrow(
      expect.objectContaining({ problems: expect.arrayContaining([expect.stringMatching(/^KAFKA_BROKERS:/), expect.stringMatching(/^DATABASE_URL:/), expect.stringMatching(/^AUTH_ISSUER:/), expect.stringMatching(/^MESSAGE_SIGNERS_FILE:/)]) }),
    );
  });
});
