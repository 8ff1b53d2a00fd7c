import { cardId, compactJwe } from '@pinflow/contracts';
import { z } from 'zod';

/**
 * Request bodies of intake's HTTP API. The PIN arrives encrypted to pinflow's PIN key (`encryptedPin`),
 * or, where a deployment allows it, in clear over TLS (`pin`), never both.
 */
export const pismoChangePinBody = z
  .object({
    encryptedPin: compactJwe.optional(),
    pin: z.string().max(12).optional(),
    syncOfflinePin: z.boolean().default(false),
  })
  .strict()
  .refine((body) => (body.encryptedPin === undefined) !== (body.pin === undefined), {
    message: 'exactly one of encryptedPin and pin is required',
    path: ['encryptedPin'],
  });
export type PismoChangePinBody = z.output<typeof pismoChangePinBody>;

export const pismoIncreasePasswordTriesBody = z
  .object({ blockCardExceedsCounter: z.boolean() })
  .strict();
export type PismoIncreasePasswordTriesBody = z.output<typeof pismoIncreasePasswordTriesBody>;

export const cardIdParam = cardId;
export const requestIdParam = z.uuid();

/** Idempotency-Key header (IETF httpapi-idempotency-key-header): a client-chosen unique string. */
export const idempotencyKeyHeader = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional();

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
