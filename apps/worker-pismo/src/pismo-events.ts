import { buildEvent, cardId as pinflowCardId, EVENT_TYPES } from '@pinflow/contracts';
import { COMMAND_STATES, eventSource, StoredCommand, VendorEvent, VendorEventTranslation, vendorEventId } from '@pinflow/worker-kit';
import { z } from 'zod';

/** Pismo's card ids are numbers in some payloads and strings in others. */
const pismoCardId = z.union([z.string(), z.number().int().nonnegative()]).transform(String).pipe(pinflowCardId);
// Copies of Pismo's docs disagree on the case of enum values; both spellings are accepted.
const upper = z.string().min(1).transform((value) => value.toUpperCase());
const lower = z.string().min(1).transform((value) => value.toLowerCase());

const envelope = {
  event_id: z.string().min(1).max(128),
  domain: z.string().optional(),
  org_id: z.string().optional(),
  schema_version: z.unknown().optional(),
  /** The correlation id of the call that caused the event; absent on events Pismo raised by itself. */
  cid: z.string().min(1).max(128).nullish(),
  timestamp: z.string().optional(),
};

const passwordUpdated = z.looseObject({
  ...envelope,
  event_type: z.literal('update_password-1'),
  data: z.looseObject({ card_id: pismoCardId, status: upper.pipe(z.enum(['SUCCESS', 'FAILURE'])) }),
});

const issuerScript = z.looseObject({
  ...envelope,
  event_type: z.literal('issuer_script-1'),
  data: z.looseObject({ card_id: pismoCardId, script_type: upper, script_event_type: lower }),
});

const cardUpdated = z.looseObject({
  ...envelope,
  event_type: z.literal('update-1'),
  data: z.looseObject({ card_id: pismoCardId, card_status: upper, card_previous_status: upper.optional() }),
});

const KNOWN_TYPES: readonly string[] = ['update_password-1', 'issuer_script-1', 'update-1'];

/** Every other event on the topic: Pismo publishes many more types than pinflow reacts to. */
const otherEvent = z.looseObject({
  ...envelope,
  event_type: z.string().refine((type) => !KNOWN_TYPES.includes(type)),
});

const knownPismoEvent = z.discriminatedUnion('event_type', [passwordUpdated, issuerScript, cardUpdated]);

/** Messages on PISMO_EVENTS_TOPIC: lenient on extra fields and enum case, strict on what pinflow uses. */
export const pismoEvent = z.union([knownPismoEvent, otherEvent]);
export type PismoEvent = z.infer<typeof pismoEvent>;
export type KnownPismoEvent = z.infer<typeof knownPismoEvent>;

export function isKnownPismoEvent(event: PismoEvent): event is KnownPismoEvent {
  return KNOWN_TYPES.includes(event.event_type);
}

/** The command a Pismo event's cid points at. */
export interface CorrelatedCommand {
  commandId: string;
  requestId: string;
  cardId: string;
  operation: string;
  /** Whether Pismo was asked to sync the chip's offline PIN; PIN changes only. */
  syncOfflinePin?: boolean;
}

/** What the worker keeps with a change_pin or update_pin_block command for the update_password-1 event that ends it. */
const pismoDetails = z.object({ syncOfflinePin: z.boolean() });
export type PismoDetails = z.infer<typeof pismoDetails>;

function correlatedCommand(stored: StoredCommand): CorrelatedCommand {
  const details = pismoDetails.safeParse(stored.details);
  return {
    commandId: stored.commandId,
    requestId: stored.requestId,
    cardId: stored.cardId,
    operation: stored.operation,
    ...(details.success ? { syncOfflinePin: details.data.syncOfflinePin } : {}),
  };
}

function occurredAt(timestamp: string | undefined): Date | undefined {
  const time = new Date(timestamp ?? Number.NaN);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** The pinflow event a Pismo event stands for; `command` is the pinflow command it answers, if any. */
export function translatePismoEvent(pismo: KnownPismoEvent, command?: CorrelatedCommand): VendorEventTranslation {
  const base = {
    id: vendorEventId('pismo', pismo.event_id),
    source: eventSource('pismo'),
    time: occurredAt(pismo.timestamp),
  };
  // The command names the card as pinflow knows it; Pismo's own id is the fallback for its own events.
  const cardId = command?.cardId ?? pismo.data.card_id;
  const correlation = {
    vendor: 'pismo' as const,
    vendorEventId: pismo.event_id,
    ...(command ? { requestId: command.requestId, commandId: command.commandId } : {}),
  };
  switch (pismo.event_type) {
    case 'update_password-1': {
      if (pismo.data.status === 'SUCCESS') {
        const syncOfflinePin = command?.syncOfflinePin;
        return {
          event: buildEvent(EVENT_TYPES.passwordChanged, { ...base, cardId, data: { ...correlation, ...(syncOfflinePin === undefined ? {} : { syncOfflinePin }) } }),
          settles: COMMAND_STATES.succeeded,
        };
      }
      // A failure event names the request it failed; without one there is nobody to tell.
      if (!command) return { skip: 'password change failure that matches no command' };
      return {
        event: buildEvent(EVENT_TYPES.failed, {
          ...base,
          cardId,
          data: { ...correlation, requestId: command.requestId, commandId: command.commandId, operation: command.operation, reason: 'VENDOR_REJECTED' },
        }),
        settles: COMMAND_STATES.failed,
      };
    }
    case 'issuer_script-1':
      return {
        event: buildEvent(EVENT_TYPES.issuerScriptRequested, {
          ...base,
          cardId,
          data: { ...correlation, scriptType: pismo.data.script_type, scriptStatus: pismo.data.script_event_type },
        }),
      };
    case 'update-1':
      if (pismo.data.card_status !== 'BLOCKED') return { skip: 'card update other than a block' };
      return {
        event: buildEvent(EVENT_TYPES.cardBlocked, {
          ...base,
          cardId,
          data: { ...correlation, ...(pismo.data.card_previous_status ? { previousStatus: pismo.data.card_previous_status } : {}) },
        }),
      };
  }
}

/** A Pismo event as the worker kit handles it, linked by its cid; undefined for types pinflow does not react to. */
export function routePismoEvent(pismo: PismoEvent): VendorEvent | undefined {
  if (!isKnownPismoEvent(pismo)) return undefined;
  return {
    eventId: pismo.event_id,
    eventType: pismo.event_type,
    correlationId: pismo.cid,
    translate: (stored) => translatePismoEvent(pismo, stored && correlatedCommand(stored)),
  };
}
