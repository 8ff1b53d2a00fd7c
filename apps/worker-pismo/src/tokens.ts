export const WORKER_LOGGER = Symbol('WORKER_LOGGER');
export const RETRY_POLICY = Symbol('RETRY_POLICY');
