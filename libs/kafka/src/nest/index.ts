export * from './contract.pipe';
export * from './message-context';
export * from './message-exception.filter';
export * from './pinflow-kafka.server';
export * from './connect';
export * from './pinflow-kafka.client';
