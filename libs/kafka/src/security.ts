import { ConfigError } from '@pinflow/config';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { readFileSync } from 'node:fs';
import type { KafkaSettings } from './config';

const SASL_SETTINGS = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;

/**
 * What the security settings leave wrong, by variable name. A credential without SASL_SSL is an
 * error rather than ignored: the service would otherwise run as nobody, or send it in clear.
 */
export function kafkaSecurityProblems(settings: KafkaSettings): string[] {
  const protocol = settings.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT';
  if (protocol === 'SASL_SSL') {
    return SASL_SETTINGS.filter((name) => settings[name] === undefined).map((name) => `${name}: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL`);
  }
  const problems = SASL_SETTINGS.filter((name) => settings[name] !== undefined).map((name) => `${name}: only used with KAFKA_SECURITY_PROTOCOL=SASL_SSL (it is ${protocol})`);
  if (protocol === 'PLAINTEXT' && settings.KAFKA_SSL_CA_FILE !== undefined) problems.push('KAFKA_SSL_CA_FILE: only used with KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL');
  // Whoever reaches a plaintext broker reads sealed PINs' envelopes and every outcome, and may flood the topics.
  if (protocol === 'PLAINTEXT' && settings.NODE_ENV === 'production') problems.push('KAFKA_SECURITY_PROTOCOL: PLAINTEXT is refused in production (NODE_ENV=production); use SASL_SSL');
  return problems;
}

/** kafkajs' `ssl` and `sasl` options from the settings; a ConfigError (exit 78) when they do not add up. */
export function kafkaConnectionSecurity(settings: KafkaSettings, service: string): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const problems = kafkaSecurityProblems(settings);
  if (problems.length > 0) throw new ConfigError(service, problems);
  const protocol = settings.KAFKA_SECURITY_PROTOCOL ?? 'PLAINTEXT';
  if (protocol === 'PLAINTEXT') return {};
  const ssl = settings.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(settings.KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  if (protocol === 'SSL') return { ssl };
  const sasl = {
    mechanism: settings.KAFKA_SASL_MECHANISM!.toLowerCase(),
    username: settings.KAFKA_SASL_USERNAME!,
    password: settings.KAFKA_SASL_PASSWORD!,
  } as SASLOptions;
  return { ssl, sasl };
}
