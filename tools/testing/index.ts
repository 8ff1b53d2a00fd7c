export * from './test-env';
export * from './kafka-recorder';
export { waitFor } from '../platform/processes';
export { freePort } from '../platform/ports';
