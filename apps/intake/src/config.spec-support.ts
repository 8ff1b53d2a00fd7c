import { ConfigError, loadConfig } from '@pinflow/config';
import { IntakeConfig, intakeConfigSchema, VENDORS_WITH_SECRETS } from './config';

/** The least environment intake starts with: every required setting, with placeholder values. */
export const MINIMAL_INTAKE_ENV: Record<string, string> = {
  PORT: '0',
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgresql://localhost/pinflow',
  AUTH_ISSUER: 'https://issuer.example',
  AUTH_AUDIENCE: 'pinflow',
  AUTH_PUBLIC_KEY_FILE: 'key.json',
  PIN_KEYS_FILE: 'pin-keys.json',
  MESSAGE_SIGNING_KEY_FILE: 'message-key.json',
  MESSAGE_SIGNERS_FILE: 'signers.json',
  COMMAND_KEYS_FILES: JSON.stringify(Object.fromEntries(VENDORS_WITH_SECRETS.map((vendor) => [vendor, `${vendor}.json`]))),
};

/** The settings the Thales D1 door needs besides its issuers. */
export const D1_DOOR_ENV: Record<string, string> = { D1_INBOUND_CLIENT_ID: 'thales-d1', D1_INBOUND_CLIENT_SECRET: 'x'.repeat(32), D1_INBOUND_ENCRYPTION_KEY_FILE: 'd1-key.json' };

/** intake's configuration from the minimal environment plus `env`. */
export function intakeConfigWith(env: Record<string, string>): IntakeConfig {
  return loadConfig('intake', intakeConfigSchema, { ...MINIMAL_INTAKE_ENV, ...env });
}

/** What intake's start-up would refuse in the minimal environment plus `env` (none: it starts). */
export function intakeConfigProblems(env: Record<string, string>): string[] {
  try {
    intakeConfigWith(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}
