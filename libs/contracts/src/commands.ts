import { z } from 'zod';

/** A compact JWE: five base64url parts. The PIN never travels any other way. */
export const compactJwe = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a compact JWE');

export const cardId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -');

const commandEnvelope = {
  schemaVersion: z.literal(1),
  commandId: z.uuid(),
  requestId: z.uuid(),
  cardId,
  /** Who asked: the authenticated subject (and client, when the token names one). */
  caller: z.object({ subject: z.string().min(1), clientId: z.string().optional() }),
  issuedAt: z.iso.datetime({ offset: true }),
};

export const pismoChangePinCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('change_pin'),
  encryptedPin: compactJwe,
  syncOfflinePin: z.boolean(),
});

export const pismoIncreasePasswordTriesCommand = z.object({
  ...commandEnvelope,
  vendor: z.literal('pismo'),
  operation: z.literal('increase_password_tries'),
  blockCardExceedsCounter: z.boolean(),
});

/** Messages on pinflow.commands.pismo.v1. */
export const pismoCommand = z.discriminatedUnion('operation', [pismoChangePinCommand, pismoIncreasePasswordTriesCommand]);

export type PismoChangePinCommand = z.infer<typeof pismoChangePinCommand>;
export type PismoIncreasePasswordTriesCommand = z.infer<typeof pismoIncreasePasswordTriesCommand>;
export type PismoCommand = z.infer<typeof pismoCommand>;
export type Operation = PismoCommand['operation'];
