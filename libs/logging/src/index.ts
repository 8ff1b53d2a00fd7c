import pino, { Logger, LoggerOptions } from 'pino';
import { REDACTED, redactLine } from './redact';

/**
 * A request's body never reaches a log line, whatever its field names: removed by path before the
 * line is written. Every other secret is found by its name, at any depth, in the written line.
 */
export const REDACTED_PATHS = ['req.body'];

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: redactLine },
  };
}

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(loggerOptions(service, level));
}

export { REDACTED, redactLine } from './redact';
export type { Logger } from 'pino';
