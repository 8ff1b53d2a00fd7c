export * from './stack';
export * from './secrets';
export * from './infrastructure';
export * from './kafka';
export * from './kafka-cluster';
export * from './postgres-local';
export * from './pin-change-scenarios';
export * from './local-ports';
