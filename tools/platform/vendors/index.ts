import { pismoPlatform } from './pismo';
import { solarisPlatform } from './solaris';
import { thalesD1Platform } from './thales-d1';
import { vaultPlatform } from './vault';

/** The registry: each vendor's sandbox, worker and scenario, in the order of the contracts' registry (ports follow it). */
export const VENDOR_PLATFORMS = [pismoPlatform, solarisPlatform, thalesD1Platform, vaultPlatform] as const;

export { PISMO_EVENTS_TOPIC } from './pismo';
export { THALES_D1_ISSUER_ID } from './thales-d1';
