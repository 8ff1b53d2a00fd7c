export * from './client';
export * from './migrate';
export * from './prisma.module';
export * from './config';
export * from './coalescer';
