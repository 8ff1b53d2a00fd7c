export * from './coalescer';
export * from './config';
export * from './pool';
export * from './sql.module';
