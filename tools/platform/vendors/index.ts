import { VENDORS } from '@pinflow/contracts';
import type { VendorPlatform } from '../vendor-platform';

/**
 * Each vendor's platform part, found by convention: vendor `<name>` of the contracts' registry has
 * ./<name>.ts exporting `platform`. So the contracts' registry stays the one list of vendors, and
 * their order (which ports follow) is its order.
 */
export const VENDOR_PLATFORMS: readonly VendorPlatform[] = VENDORS.map((vendor) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is named by the registry, not by this file
  const { platform } = require(`./${vendor}`) as { platform?: VendorPlatform };
  if (platform?.contract.name !== vendor) throw new Error(`tools/platform/vendors/${vendor}.ts must export the platform of ${vendor} as \`platform\``);
  return platform;
});

export { PISMO_EVENTS_TOPIC } from './pismo';
export { THALES_D1_ISSUER_ID } from './thales-d1';
