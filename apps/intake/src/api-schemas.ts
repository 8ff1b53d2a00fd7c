import { idempotencyKey } from '@pinflow/contracts';
import { z } from 'zod';

/*
 * Request bodies and path parameters of the vendors' endpoints are part of each vendor's contract
 * (@pinflow/contracts, ./vendors): the Kafka request door (pinflow.requests.v1) carries exactly what
 * this API takes. What is left here is intake's own.
 */
export const requestIdParam = z.uuid();

/** Idempotency-Key header (IETF httpapi-idempotency-key-header): a client-chosen unique string. */
export const idempotencyKeyHeader = idempotencyKey.optional();

export const acceptedResponse = z.object({
  requestId: z.uuid(),
  status: z.literal('accepted'),
  statusUrl: z.string(),
});
export type AcceptedResponse = z.infer<typeof acceptedResponse>;

export const requestStatusResponse = z.object({
  requestId: z.uuid(),
  status: z.enum(['accepted', 'succeeded', 'failed']),
  vendor: z.string(),
  operation: z.string(),
  cardId: z.string(),
  acceptedAt: z.string(),
  completedAt: z.string().nullable(),
  events: z.array(z.object({ id: z.string(), type: z.string(), time: z.string(), data: z.record(z.string(), z.unknown()) })),
});
export type RequestStatusResponse = z.infer<typeof requestStatusResponse>;
