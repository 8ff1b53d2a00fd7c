export * from './topics';
export * from './commands';
export * from './events';
export * from './asyncapi';
export * from './contract-of';
export * from './requests';
