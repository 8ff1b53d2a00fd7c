import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { cardId } from './commands';
import { VENDORS } from './topics';

export const EVENT_TYPES = {
  accepted: 'pinflow.pin_change.accepted',
  passwordChanged: 'pinflow.card.password.changed',
  issuerScriptRequested: 'pinflow.card.issuer_script.requested',
  issuerScriptAppended: 'pinflow.card.issuer_script.appended',
  passwordTriesIncreased: 'pinflow.card.password_tries.increased',
  passwordTriesReset: 'pinflow.card.password_tries.reset',
  verificationCodeSent: 'pinflow.card.verification_code.sent',
  verificationCodeChecked: 'pinflow.card.verification_code.checked',
  confirmationRequired: 'pinflow.pin_change.confirmation_required',
  cardBlocked: 'pinflow.card.blocked',
  failed: 'pinflow.pin_change.failed',
  rejected: 'pinflow.pin_change.rejected',
} as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** Why a request failed; stable codes consumers can branch on. */
export const FAILURE_REASONS = [
  'CARD_NOT_FOUND',
  'VENDOR_REJECTED',
  'VENDOR_UNAUTHORIZED',
  'VENDOR_UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'INVALID_COMMAND',
  'UNDECRYPTABLE_PIN',
  /** A secret of the command was sealed for another card, another command, or for no command at all. */
  'SECRET_NOT_FOR_THIS_COMMAND',
  /** A secret of the command was sealed too long ago to be used. */
  'SECRET_EXPIRED',
  /** The vendor gave up on a change request after too many wrong confirmations (Solaris: wrong TANs or device signatures). */
  'CONFIRMATION_ATTEMPTS_EXHAUSTED',
] as const;

/**
 * Links an event to the request that caused it. Absent on events the vendor raised by itself
 * (a card blocked by tries made elsewhere still reaches the audit trail).
 */
const correlation = {
  vendor: z.enum(VENDORS),
  requestId: z.uuid().optional(),
  commandId: z.uuid().optional(),
  /** The vendor's own event id, when the event was derived from one. */
  vendorEventId: z.string().optional(),
};

export const eventDataSchemas = {
  [EVENT_TYPES.accepted]: z.object({
    ...correlation,
    requestId: z.uuid(),
    commandId: z.uuid(),
    operation: z.string(),
    /** The token subject that made the request. */
    caller: z.string(),
    /** The caller's tenant, when its token named one: callers of a tenant may read each other's requests. */
    tenant: z.string().optional(),
    /** The caller's Idempotency-Key, or a Kafka requester's request id: what it correlates the answer by. */
    clientRequestId: z.string().optional(),
  }),
  [EVENT_TYPES.passwordChanged]: z.object({ ...correlation, syncOfflinePin: z.boolean().optional() }),
  [EVENT_TYPES.issuerScriptRequested]: z.object({
    ...correlation,
    scriptType: z.string(),
    scriptStatus: z.string(),
  }),
  [EVENT_TYPES.issuerScriptAppended]: z.object({
    ...correlation,
    scriptType: z.string(),
    /** The vendor's id of the script on the card, when its answer names one. */
    cardScriptId: z.string().optional(),
  }),
  [EVENT_TYPES.passwordTriesIncreased]: z.object({ ...correlation, blockCardExceedsCounter: z.boolean().optional() }),
  [EVENT_TYPES.passwordTriesReset]: z.object(correlation),
  [EVENT_TYPES.verificationCodeSent]: z.object(correlation),
  [EVENT_TYPES.verificationCodeChecked]: z.object(correlation),
  [EVENT_TYPES.confirmationRequired]: z.object({
    ...correlation,
    /** The vendor's change request to confirm (Solaris), named in the confirming request's path. */
    changeRequestId: z.string(),
    /** The vendor's status of it, as it answered (Solaris: CONFIRMATION_REQUIRED). */
    changeRequestStatus: z.string(),
    /** How the cardholder confirms it (Solaris: mobile_number, an SMS TAN; device_signing). */
    deliveryMethod: z.string(),
    /** What the cardholder's device signs to confirm it, for device_signing: a challenge, no secret. */
    stringToSign: z.string().optional(),
  }),
  [EVENT_TYPES.cardBlocked]: z.object({ ...correlation, previousStatus: z.string().optional() }),
  [EVENT_TYPES.failed]: z.object({
    ...correlation,
    requestId: z.uuid(),
    commandId: z.uuid(),
    operation: z.string(),
    reason: z.enum(FAILURE_REASONS),
    /** The vendor's HTTP status, when the vendor answered. */
    vendorStatus: z.number().int().optional(),
    /** The vendor's own error summary (code, title, detail, field), never containing request secrets. */
    vendorError: z
      .object({
        code: z.string().optional(),
        title: z.string().optional(),
        detail: z.string().optional(),
        /** The request field the vendor blamed (JSON:API `source.field`), when it names one. */
        field: z.string().optional(),
      })
      .optional(),
  }),
  /**
   * intake refused a request from the Kafka door, with the problem the HTTP door would have answered.
   * No command exists; vendor and operation are there when the request named valid ones.
   */
  [EVENT_TYPES.rejected]: z.object({
    // Shaped like the others, though no request or command exists to name.
    ...correlation,
    vendor: z.enum(VENDORS).optional(),
    operation: z.string().optional(),
    /** The requester whose signature the request carried; absent when it was not validly signed. */
    caller: z.string().optional(),
    clientRequestId: z.string(),
    problem: z.looseObject({ type: z.string(), title: z.string(), status: z.number().int(), code: z.string(), detail: z.string().optional() }),
  }),
} satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

const cloudEventBase = {
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  subject: cardId,
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
};

/** A pinflow event: CloudEvents 1.0, structured JSON mode, subject = card id. */
export const pinflowEvent = z.discriminatedUnion(
  'type',
  Object.entries(eventDataSchemas).map(([type, data]) =>
    z.object({ ...cloudEventBase, type: z.literal(type as EventType), data }),
  ) as unknown as [z.ZodObject<{ type: z.ZodLiteral<EventType> }>],
);

export type PinflowEvent = { [T in EventType]: CloudEvent<T> }[EventType];
export interface CloudEvent<T extends EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData<T>;
}

/** Events that say a request succeeded: each is the final outcome of one operation. */
const SUCCESS_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  EVENT_TYPES.passwordChanged,
  EVENT_TYPES.issuerScriptAppended,
  EVENT_TYPES.passwordTriesIncreased,
  EVENT_TYPES.passwordTriesReset,
  EVENT_TYPES.verificationCodeSent,
  EVENT_TYPES.verificationCodeChecked,
  // Step one of a confirmed change ends here; the confirming request has its own outcome.
  EVENT_TYPES.confirmationRequired,
]);

/** Events after which a request has its final outcome. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set([...SUCCESS_EVENT_TYPES, EVENT_TYPES.failed]);

// Namespace of every event id the workers derive; fixed forever, or ids stop deduping across releases.
const NAMESPACE = Buffer.from('6f1c5d2e8a3b4c7d9e0f1a2b3c4d5e6f', 'hex');

/**
 * A name-based UUID (RFC 9562 version 5): the same name always gives the same id, so an outcome that
 * is published again after a redelivery is dropped by consumers that dedupe on event id.
 */
export function deterministicEventId(...parts: string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u0000')).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Builds a valid event. `id` defaults to a fresh UUID; pass a deterministic one when the same
 * input may be processed twice, so consumers' dedupe on event id absorbs the repeat.
 */
export function buildEvent<T extends EventType>(
  type: T,
  init: { source: string; cardId: string; data: EventData<T>; id?: string; time?: Date },
): CloudEvent<T> {
  const event = {
    specversion: '1.0' as const,
    id: init.id ?? randomUUID(),
    source: init.source,
    type,
    subject: init.cardId,
    time: (init.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json' as const,
    data: eventDataSchemas[type].parse(init.data) as EventData<T>,
  };
  return event;
}

export function parseEvent(value: unknown): PinflowEvent {
  return pinflowEvent.parse(value) as PinflowEvent;
}

export type RequestStatus = 'accepted' | 'succeeded' | 'failed' | 'unknown';

/**
 * A request's status as its events tell it, the same for every consumer. The vendor's confirmation
 * outweighs a failure: a failure of unknown outcome (a timed-out call) can later be settled by the
 * vendor's own event, and then the PIN did change. Without an `accepted` event and without an
 * outcome, the events cannot say.
 */
export function requestStatusOf(eventTypes: readonly string[]): RequestStatus {
  if (eventTypes.some((type) => SUCCESS_EVENT_TYPES.has(type as EventType))) return 'succeeded';
  if (eventTypes.includes(EVENT_TYPES.failed)) return 'failed';
  if (eventTypes.includes(EVENT_TYPES.accepted)) return 'accepted';
  return 'unknown';
}
