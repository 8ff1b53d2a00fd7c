// Workers reach vendors through @pinflow/vendor-http; re-exported so a worker needs one import.
export * from '@pinflow/vendor-http';
export * from './vendor-errors';
export * from './retry-policy';
export * from './circuit-breaker';
export * from './event-ids';
export * from './outcomes';
export * from './command-ledger';
export * from './command-runner';
export * from './command-consumer';
export * from './vendor-events';
export * from './config';
export * from './worker-kit.module';
