export * from './auth-config';
export * from './auth.module';
export * from './bearer-auth.guard';
export * from './decorators';
export * from './dev-keys';
export * from './jwt-verifier';
export * from './scopes';
export * from './message-signatures';
