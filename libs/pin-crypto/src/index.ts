export * from './pin-key-ring';
export * from './pin-jwe';
export * from './pin-keys-config';
export * from './key-ring-file';
