export * from './vendor-http';
export * from './client-credentials';
