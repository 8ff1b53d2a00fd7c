import { z } from 'zod';
import { COMMAND_SCHEMAS } from './commands';
import { EVENT_TYPES, eventDataSchemas, EventType, pinflowEvent } from './events';
import { REQUEST_SCHEMAS, REQUEST_SIGNATURE_HEADER } from './requests';
import { commandTopic, EVENTS_TOPIC, requestTopic, Vendor, VENDORS } from './topics';

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', target: 'draft-07' });

const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  [EVENT_TYPES.accepted]: 'intake accepted a request and published its command.',
  [EVENT_TYPES.passwordChanged]: 'The vendor changed the card PIN. Final outcome of a PIN change.',
  [EVENT_TYPES.issuerScriptRequested]: 'The vendor created (or applied) a chip script that carries the new PIN to the card (Pismo sync_offline_pin).',
  [EVENT_TYPES.issuerScriptAppended]:
    "The vendor appended a chip script that writes a PIN to the card at its next contact authorization (Pismo sync_offline_pin, update_offline_pin). Final outcome of those requests; the script's own progress follows as issuer_script.requested.",
  [EVENT_TYPES.passwordTriesIncreased]: "The vendor increased the card's PIN tries counter. Final outcome of a tries increase.",
  [EVENT_TYPES.passwordTriesReset]: "The vendor cleared the card's PIN tries counter (Pismo also unblocks a card the tries had blocked). Final outcome of a tries reset.",
  [EVENT_TYPES.verificationCodeSent]: 'The vendor texted the cardholder a new one-time code for setting a passcode (Vault). Final outcome of a code request.',
  [EVENT_TYPES.verificationCodeChecked]: 'The vendor confirmed the one-time code is the one it sent, unused and unexpired (Vault); the code stays usable. Final outcome of a code check.',
  [EVENT_TYPES.confirmationRequired]:
    "The vendor holds the PIN change until the cardholder confirms it (Solaris' change request: a TAN texted to the cardholder). Final outcome of change_pin_request; confirm_change_request with `changeRequestId` ends in password.changed or failed.",
  [EVENT_TYPES.cardBlocked]: 'The vendor blocked the card (for instance: too many PIN tries). May answer no request.',
  [EVENT_TYPES.failed]: 'The request failed; `reason` says why, `vendorStatus` / `vendorError` what the vendor answered. Final outcome.',
  [EVENT_TYPES.rejected]:
    "intake refused a request from a requester's request topic (`problem` has the `code` HTTP would have answered: VALIDATION_FAILED, PIN_REJECTED, IDEMPOTENCY_KEY_REUSED, SIGNATURE_INVALID…, or REQUESTER_MISMATCH: signed by another requester than the topic's). Final outcome; nothing was sent to the vendor.",
};

function camel(name: string): string {
  return name.replace(/[-_.](\w)/g, (_, letter: string) => letter.toUpperCase());
}

/** One message per operation: an operation with several shapes (a union of its own) is one message with each of them. */
function commandVariants(vendor: Vendor): z.ZodType[] {
  const schema = COMMAND_SCHEMAS[vendor] as z.ZodType;
  return schema instanceof z.ZodDiscriminatedUnion ? (schema.options as z.ZodType[]) : [schema];
}

function operationOf(variant: z.ZodType): string {
  const shape = variant instanceof z.ZodDiscriminatedUnion ? (variant.options[0] as z.ZodObject) : (variant as z.ZodObject);
  return (shape.shape.operation as z.ZodLiteral).value as string;
}

/**
 * The AsyncAPI 3 document of pinflow's topics, built from the zod schemas every producer and consumer
 * validates with, so it cannot drift from the code.
 */
export function asyncApiDocument() {
  const eventMessages = Object.fromEntries(
    Object.keys(eventDataSchemas).map((type) => {
      const name = type.replace(/^pinflow\./, '').replace(/[._]/g, '-');
      const schema = (pinflowEvent.options as z.ZodObject[]).find((option) => (option.shape.type as z.ZodLiteral).value === type)!;
      return [name, { name: type, title: type, summary: EVENT_DESCRIPTIONS[type as EventType], contentType: 'application/cloudevents+json', payload: jsonSchema(schema) }];
    }),
  );
  const commandChannels = Object.fromEntries(
    VENDORS.map((vendor) => [
      `${camel(vendor)}Commands`,
      {
        address: commandTopic(vendor),
        description: `Commands for ${vendor}, produced by intake and consumed by worker-${vendor}. Key: card id.`,
        messages: Object.fromEntries(commandVariants(vendor).map((variant) => [camel(operationOf(variant)), { name: `${vendor}.${operationOf(variant)}`, contentType: 'application/json', payload: jsonSchema(variant) }])),
      },
    ]),
  );
  const requestMessages = Object.fromEntries(
    Object.entries(REQUEST_SCHEMAS).map(([type, schema]) => [
      camel(type),
      {
        name: type,
        contentType: 'application/json',
        headers: {
          type: 'object',
          required: [REQUEST_SIGNATURE_HEADER],
          properties: {
            [REQUEST_SIGNATURE_HEADER]: {
              type: 'string',
              description:
                "Compact JWS with detached payload (`<protected>..<signature>`) over the message value's exact bytes; the protected header names the requester (`iss`) and its key (`kid`, from the requester's registered JWKS); ES256, PS256, RS256 or EdDSA.",
            },
          },
        },
        payload: jsonSchema(schema),
      },
    ]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'pinflow messages',
      version: '1.0.0',
      description:
        'Commands (one topic per vendor, keyed by card id) and events (CloudEvents 1.0, structured JSON, keyed by card id) of pinflow. ' +
        'A PIN travels only as a compact JWE (RSA-OAEP-256 / A256GCM) encrypted to pinflow\'s PIN key. Delivery is at least once: ' +
        'consumers deduplicate on commandId / event id.',
    },
    defaultContentType: 'application/json',
    channels: {
      requests: {
        address: requestTopic('{requester}'),
        parameters: { requester: { description: 'The requester id registered with intake (INTAKE_KAFKA_REQUESTERS): the `iss` of its signatures and its Kafka principal.' } },
        description:
          "PIN-change requests from one upstream system, consumed by intake like calls to its HTTP API (same validation, PIN rules and idempotency). Key: card id. " +
          'Only the requester\'s principal may write its topic (broker ACLs), and intake rejects (REQUESTER_MISMATCH) a request signed by anyone but the requester whose topic it is. ' +
          'Each is answered once on pinflow.events.v1 (pinflow.pin_change.accepted or pinflow.pin_change.rejected, with `clientRequestId`) and on `replyTopic` when the requester may use it; ' +
          'a message that is not JSON, has an unknown schemaVersion or is not validly signed is dead-lettered (and answered where its clientRequestId can be read).',
        messages: requestMessages,
      },
      ...commandChannels,
      events: {
        address: EVENTS_TOPIC,
        description: 'Every outcome for every vendor, produced by intake and the workers, consumed by audit and intake. Key: card id (the CloudEvents subject).',
        messages: eventMessages,
      },
    },
    operations: {
      ...Object.fromEntries(
        Object.keys(commandChannels).flatMap((channel) => [
          [`send${channel[0].toUpperCase()}${channel.slice(1)}`, { action: 'send', channel: { $ref: `#/channels/${channel}` } }],
          [`receive${channel[0].toUpperCase()}${channel.slice(1)}`, { action: 'receive', channel: { $ref: `#/channels/${channel}` } }],
        ]),
      ),
      sendRequest: { action: 'send', channel: { $ref: '#/channels/requests' } },
      receiveRequest: { action: 'receive', channel: { $ref: '#/channels/requests' } },
      sendEvent: { action: 'send', channel: { $ref: '#/channels/events' } },
      receiveEvent: { action: 'receive', channel: { $ref: '#/channels/events' } },
    },
  };
}
