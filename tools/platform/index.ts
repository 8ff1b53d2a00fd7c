export * from './stack';
export * from './secrets';
export * from './infrastructure';
export * from './kafka';
