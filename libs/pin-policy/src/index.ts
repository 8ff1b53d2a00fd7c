export * from './pin-rules';
export * from './check-pin';
export * from './check-pan';
export * from './common-pins';
