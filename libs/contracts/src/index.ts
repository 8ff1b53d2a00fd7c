export * from './topics';
export * from './commands';
export * from './events';
export * from './asyncapi';
export * from './contract-of';
export * from './requests';
export * from './vendor-contract';
export * from './vendors';
