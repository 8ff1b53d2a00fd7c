export * from './problem';
export * from './zod-pipe';
export * from './health';
export * from './bootstrap';
export * from './metrics';
export * from './admission-limit';
export * from './request-bodies';
