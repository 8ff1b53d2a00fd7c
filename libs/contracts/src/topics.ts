import { VENDOR_CONTRACTS } from './vendors';

/** The vendors pinflow routes PIN changes to (see ./vendors). Each has its own command topic. */
export const VENDORS = VENDOR_CONTRACTS.map((vendor) => vendor.name) as readonly Vendor[] as readonly [Vendor, ...Vendor[]];
export type Vendor = (typeof VENDOR_CONTRACTS)[number]['name'];

/** Commands for one vendor, keyed by card id so one card's commands stay in order. */
export function commandTopic(vendor: Vendor): string {
  return `pinflow.commands.${vendor}.v1`;
}

/** Every outcome of every vendor, as CloudEvents, keyed by card id. */
export const EVENTS_TOPIC = 'pinflow.events.v1';

/** Requests from upstream systems, signed by their requester, keyed by card id: intake's front door on Kafka. */
export const REQUESTS_TOPIC = 'pinflow.requests.v1';
