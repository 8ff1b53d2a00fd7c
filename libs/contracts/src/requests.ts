import { z } from 'zod';
import { cardIdParam, emptyBody, RouteContract, VendorContract } from './vendor-contract';
import { VENDOR_CONTRACTS } from './vendors';

export { cardIdParam, emptyBody };

/** An Idempotency-Key (IETF httpapi-idempotency-key-header), or a Kafka requester's request id: a client-chosen unique string. */
export const idempotencyKey = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Fields that hold a secret in clear: HTTP may take them (over TLS, where allowed), Kafka never. */
const CLEAR_SECRET_FIELDS = ['pin', 'passcode', 'code', 'pan'];

/** A body as the Kafka door takes it: the HTTP body, with every secret sealed. */
function sealedOnly<S extends z.ZodType<Record<string, unknown> | undefined>>(body: S) {
  const rule = `clear secrets (${CLEAR_SECRET_FIELDS.join(', ')}) are never taken from Kafka: encrypt them to the key at /v1/pin-keys`;
  return body.refine((value) => CLEAR_SECRET_FIELDS.every((field) => value?.[field] === undefined), { message: rule }).meta({ description: `The HTTP API's body; ${rule}.` });
}

/**
 * What every message on a request topic (pinflow.requests.<requester>.v1) starts with. `clientRequestId` is the requester's
 * request id: its idempotency key, echoed in the answer. Answers go to pinflow.events.v1 and, when
 * `replyTopic` names one the requester may use, there too.
 */
export const REQUEST_SCHEMA_VERSION = 1;
export const requestEnvelope = z.looseObject({
  schemaVersion: z.number(),
  clientRequestId: idempotencyKey,
  replyTopic: z.string().min(1).max(249).regex(/^[A-Za-z0-9._-]+$/, 'must be a Kafka topic name').optional(),
});

const envelopeFields = { ...requestEnvelope.shape, schemaVersion: z.literal(REQUEST_SCHEMA_VERSION) };

/** A message on a request topic for one route: the HTTP API's path parameters and body (`body`), secrets sealed. */
function requestSchema(vendor: VendorContract, route: RouteContract) {
  const params = Object.fromEntries(Object.entries(route.params).map(([name, parameter]) => [name, parameter.schema]));
  return z.strictObject({
    ...envelopeFields,
    vendor: z.literal(vendor.name),
    operation: z.literal(route.operation),
    ...params,
    body: route.secrets ? sealedOnly(route.body) : route.body,
  });
}

/** One message per vendor and operation: the Kafka door takes every request the HTTP door takes. */
export const REQUEST_SCHEMAS: Record<string, ReturnType<typeof requestSchema>> = Object.fromEntries(
  VENDOR_CONTRACTS.flatMap((vendor) => vendor.routes.map((route) => [`${vendor.name}.${route.operation}`, requestSchema(vendor, route)])),
);

/** A request from a request topic, validated: its vendor, operation, path parameters and body. */
export type PinflowRequest = { vendor: string; operation: string; body?: Record<string, unknown> } & Record<string, unknown>;

/** The schema of a request of `vendor` and `operation`, if pinflow takes such requests. */
export function requestSchemaOf(vendor: unknown, operation: unknown): z.ZodType<PinflowRequest> | undefined {
  return Object.hasOwn(REQUEST_SCHEMAS, `${vendor}.${operation}`) ? (REQUEST_SCHEMAS[`${vendor}.${operation}`] as z.ZodType<PinflowRequest>) : undefined;
}

/** The vendor's route for an operation. */
export function routeOf(vendor: string, operation: string): RouteContract | undefined {
  return VENDOR_CONTRACTS.find((contract) => contract.name === vendor)?.routes.find((route) => route.operation === operation);
}

/** The header holding a request's signature: a compact JWS with detached payload (RFC 7515 appendix F) over the message value's exact bytes. */
export const REQUEST_SIGNATURE_HEADER = 'pinflow-signature';
