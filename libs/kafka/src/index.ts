export * from './config';
export * from './client';
export * from './topics';
export * from './producer';
export * from './consumer';
export * from './kafka.module';
export * from './consumer.service';
export * from './dead-letters';
