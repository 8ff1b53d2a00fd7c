import { idempotencyKey } from '@pinflow/contracts';
import { z } from 'zod';

/*
 * Request bodies and path parameters are part of pinflow's contracts: the Kafka request door
 * (pinflow.requests.v1) carries exactly what this API takes.
 */
export {
  cardIdParam,
  pismoChangePinBody,
  pismoIncreasePasswordTriesBody,
  pismoUpdateOfflinePinBody,
  emptyBody,
  solarisChangePinBody,
  thalesD1CardIdParam,
  thalesD1ChangePinBody,
  thalesD1IssuerIdParam,
  vaultCardIdParam,
  vaultSetPasscodeBody,
  vaultCheckVerificationCodeBody,
} from '@pinflow/contracts';
export type {
  PismoChangePinBody,
  PismoIncreasePasswordTriesBody,
  PismoUpdateOfflinePinBody,
  SolarisChangePinBody,
  ThalesD1ChangePinBody,
  VaultCheckVerificationCodeBody,
  VaultSetPasscodeBody,
} from '@pinflow/contracts';
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
