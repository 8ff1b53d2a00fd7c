import { ConfigError } from '@pinflow/config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KafkaSettings } from './config';
import { kafkaConnectionSecurity } from './security';

const base: KafkaSettings = {
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  KAFKA_COMMAND_PARTITIONS: 6,
  KAFKA_EVENT_PARTITIONS: 6,
  KAFKA_REPLICATION_FACTOR: 1,
  KAFKA_PARTITIONS_CONSUMED_CONCURRENTLY: 6,
};
const PASSWORD = 'scram-password-of-intake';

function problemsOf(settings: Partial<KafkaSettings>): string[] {
  try {
    kafkaConnectionSecurity({ ...base, ...settings }, 'intake');
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain(PASSWORD);
    return (error as ConfigError).problems;
  }
}

describe('Kafka connection security', () => {
  const caFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-ca-')), 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

  it('is plaintext without settings, as local runs and tests use it', () => {
    expect(kafkaConnectionSecurity(base, 'intake')).toEqual({});
  });

  it('speaks SASL over TLS, trusting the CA file it is given, as the configured principal', () => {
    const security = kafkaConnectionSecurity(
      { ...base, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SSL_CA_FILE: caFile, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD: PASSWORD },
      'intake',
    );
    expect(security).toEqual({ ssl: { ca: [expect.stringContaining('BEGIN CERTIFICATE')] }, sasl: { mechanism: 'scram-sha-512', username: 'intake', password: PASSWORD } });
  });

  it('trusts the system CAs over TLS when no CA file is named', () => {
    expect(kafkaConnectionSecurity({ ...base, KAFKA_SECURITY_PROTOCOL: 'SSL' }, 'intake')).toEqual({ ssl: true });
  });

  it('refuses SASL_SSL without a complete credential, naming each missing variable', () => {
    expect(problemsOf({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'intake' })).toEqual([
      'KAFKA_SASL_MECHANISM: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
      'KAFKA_SASL_PASSWORD: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
    ]);
  });

  it('refuses a credential it would not use, rather than run as nobody or send it in clear', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'intake', KAFKA_SASL_PASSWORD: PASSWORD })).toHaveLength(3);
    expect(problemsOf({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SASL_PASSWORD: PASSWORD })).toEqual(['KAFKA_SASL_PASSWORD: only used with KAFKA_SECURITY_PROTOCOL=SASL_SSL (it is SSL)']);
  });

  it('refuses a CA file on a plaintext connection', () => {
    expect(problemsOf({ KAFKA_SSL_CA_FILE: caFile })).toEqual(['KAFKA_SSL_CA_FILE: only used with KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL']);
  });

  it('refuses a plaintext connection in production, however it was asked for', () => {
    const refusal = ['KAFKA_SECURITY_PROTOCOL: PLAINTEXT is refused in production (NODE_ENV=production); use SASL_SSL'];
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(refusal);
    expect(problemsOf({ NODE_ENV: 'production', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT' })).toEqual(refusal);
    expect(problemsOf({ NODE_ENV: 'production', KAFKA_SECURITY_PROTOCOL: 'SSL' })).toEqual([]);
  });
});
