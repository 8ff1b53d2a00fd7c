import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Card, CARD_STATUSES, CARD_TYPES, CardChange, SCRIPT_TYPES } from './card';

// Pismo's formats, defined here and nowhere else: the sandbox stands for the vendor, so it must not
// share code (or mistakes) with the pinflow services that consume these events.

const pismoId = z.number().int().positive();
const cardIdField = z.union([pismoId, z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)]);
const dateTime = z.iso.datetime();
const cardStatus = z.enum(CARD_STATUSES);

const cardFields = {
  account_id: pismoId,
  card_id: cardIdField,
  card_name: z.string(),
  card_printed_name: z.string(),
  card_status: cardStatus,
  card_type: z.enum(CARD_TYPES),
  program_id: pismoId,
};

const envelope = {
  event_id: z.uuid(),
  domain: z.literal('cards'),
  schema_version: z.literal(1),
  org_id: z.string().regex(/^TN-/),
  cid: z.string().min(1),
  timestamp: dateTime,
};

/** Card password changed. */
const updatePassword = z.object({
  ...envelope,
  event_type: z.literal('update_password-1'),
  data: z.strictObject({ ...cardFields, expiration_date: dateTime, issuing_date: dateTime, status: z.enum(['SUCCESS', 'FAILURE']) }),
});

/** Card updated (here: a status change). */
const update = z.object({
  ...envelope,
  event_type: z.literal('update-1'),
  data: z.strictObject({ ...cardFields, card_previous_status: cardStatus }),
});

/** Card issuer script notification received. */
const issuerScript = z.object({
  ...envelope,
  event_type: z.literal('issuer_script-1'),
  data: z.strictObject({
    account_id: pismoId,
    card_id: cardIdField,
    customer_id: pismoId,
    program_id: pismoId,
    card_script_id: pismoId,
    script_event_type: z.enum(['script_created', 'script_applied']),
    script_type: z.enum(SCRIPT_TYPES),
  }),
});

export const pismoEvent = z.discriminatedUnion('event_type', [updatePassword, update, issuerScript]);
export type PismoEvent = z.infer<typeof pismoEvent>;

/** Pismo's card ids are integers; a readable test id stays a string. */
export function cardIdOf(card: Card): number | string {
  const { cardId } = card.profile;
  return /^[1-9]\d{0,14}$/.test(cardId) ? Number(cardId) : cardId;
}

export interface EventContext {
  orgId: string;
  /** Correlation id of the request that caused the change. */
  cid: string;
  now: Date;
}

/** The event Pismo emits for one change of a card, describing the card as it is after the change. */
export function pismoEventFor(card: Card, change: CardChange, context: EventContext): PismoEvent {
  const { profile } = card;
  const head = { event_id: randomUUID(), domain: 'cards' as const, schema_version: 1 as const, org_id: context.orgId, cid: context.cid, timestamp: context.now.toISOString() };
  const cardData = {
    account_id: profile.accountId,
    card_id: cardIdOf(card),
    card_name: profile.cardName,
    card_printed_name: profile.printedName,
    card_status: card.status,
    card_type: profile.cardType,
    program_id: profile.programId,
  };
  switch (change.kind) {
    case 'password_changed':
      return {
        ...head,
        event_type: 'update_password-1',
        data: { ...cardData, expiration_date: profile.expirationDate.toISOString(), issuing_date: profile.issuingDate.toISOString(), status: 'SUCCESS' },
      };
    case 'password_change_failed':
      return {
        ...head,
        event_type: 'update_password-1',
        data: { ...cardData, expiration_date: profile.expirationDate.toISOString(), issuing_date: profile.issuingDate.toISOString(), status: 'FAILURE' },
      };
    case 'status_changed':
      return { ...head, event_type: 'update-1', data: { ...cardData, card_previous_status: change.previousStatus } };
    case 'script':
      return {
        ...head,
        event_type: 'issuer_script-1',
        data: {
          account_id: profile.accountId,
          card_id: cardIdOf(card),
          customer_id: profile.customerId,
          program_id: profile.programId,
          card_script_id: change.script.id,
          script_event_type: change.scriptEvent,
          script_type: change.script.type,
        },
      };
  }
}
