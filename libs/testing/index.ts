// What tests (and the platform launcher) need to run the real thing: the infrastructure globalSetup
// provisioned, services as OS processes, scratch databases, and a way to watch Kafka.
// Depends on no @pinflow library, so any library's tests can use it without a dependency cycle.
export * from './test-env';
export * from './kafka-recorder';
export * from './processes';
export * from './app-process';
export * from './ports';
export * from './database';
export * from './paths';
export * from './solaris-device';
export * from './raw-http';
export * from './thales-d1-simulator';
export * from './openapi-contract';
export * from './test-command';
export * from './query-plans';
