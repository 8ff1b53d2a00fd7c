/** The service's own pino logger, for work outside HTTP requests (the Kafka consumer). */
export const AUDIT_LOGGER = Symbol('AUDIT_LOGGER');
