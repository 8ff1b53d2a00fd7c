export * from './topics';
export * from './commands';
export * from './events';
export * from './json-schemas';
export * from './asyncapi';
