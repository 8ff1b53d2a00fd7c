// What every vendor sandbox shares, so that each one only writes its vendor's endpoints, cards and
// error shapes. Sandboxes stand for vendors: they share this kit with each other, never code with the
// pinflow services that talk to them.
export * from './sandbox-kit.module';
export { sandboxLoggerModule } from './request-log';
export { sandboxConfig } from './config';
export type { SandboxSettings } from './config';
export type { SandboxKitOptions } from './options';
export { VendorError, parseVendorBody } from './vendor-error';
export type { KitErrorCode, TokenErrorCode, VendorDialect, VendorErrorInfo } from './vendor-error';
export { BeforeEndpointErrorFilter, VendorEndpoints, correlationIdOf } from './vendor-http';
export { defaultKnobs, FaultInjector } from './faults';
export type { Knobs } from './faults';
export { CallLog } from './call-log';
export type { AppliedCounts, VendorCall } from './call-log';
export type { ClientCredentials } from './tokens';
export { PinHash } from './pin-hash';
export { CardHooksController, holdsSecret, seededCard } from './card-hooks';
export { leakedDigits, SandboxClient } from './sandbox-client';
export type { SandboxAnswer, SandboxCallOptions } from './sandbox-client';
