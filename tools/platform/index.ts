export * from './stack';
export * from './secrets';
export * from './infrastructure';
export * from './kafka';
export * from './pin-change-scenarios';
