export * from './pin-rules';
export * from './check-pin';
