export * from './client';
export * from './migrate';
export * from './embedded';
export * from './prisma.module';
export * from './config';
