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

/**
 * A requester's id: the `iss` of its signatures, the `caller` of its requests and, where Kafka
 * authentication is on, the principal it produces as. No dots, so that its request topic's name
 * says whose it is unambiguously.
 */
export const REQUESTER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Requests from one upstream system, signed by it, keyed by card id: intake's front door on Kafka.
 * A topic per requester because a Kafka consumer is never told who produced a record: only the
 * broker's ACLs (WRITE on this topic for this requester's principal alone) can say so, and intake
 * then checks that the signer is the requester whose topic it is.
 */
export function requestTopic(requester: string): string {
  return `pinflow.requests.${requester}.v1`;
}

/** Whose request topic `topic` is, or undefined if it is none. */
export function requesterOfTopic(topic: string): string | undefined {
  const requester = /^pinflow\.requests\.(.+)\.v1$/.exec(topic)?.[1];
  return requester !== undefined && REQUESTER_ID.test(requester) ? requester : undefined;
}
