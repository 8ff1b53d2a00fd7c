import pino, { Logger, LoggerOptions } from 'pino';

/**
 * Field names that may carry a PIN, passcode, PIN block, one-time code or credential. pino removes
 * them before a line is serialised, at any of the depths our log objects use, so a mistaken
 * `logger.info({ command })` cannot leak one.
 */
const SECRET_FIELDS = [
  'pin',
  'newPin',
  'encryptedPin',
  'encrypted_pin',
  'passCode',
  'passcode',
  'pinBlock',
  'encryptedPinBlock',
  'pan',
  'encryptedPan',
  'encryptedPasscode',
  'encryptedCode',
  'signature',
  'otp',
  'oneTimeCode',
  'authorization',
  'Authorization',
  'access_token',
  'client_secret',
  'password',
];

export const REDACTED_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]).concat([
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body',
  'res.headers["set-cookie"]',
]);

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(loggerOptions(service, level));
}

export type { Logger } from 'pino';
