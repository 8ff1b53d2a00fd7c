import { Injectable } from '@nestjs/common';
import { CallLog, PinHash } from '@pinflow/sandbox-kit';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { deviceSignatureIsValid } from './device-signature';
import { decryptPin } from './encrypted-pin';
import { PinKeys } from './pin-keys';
import { brokenPinRule, PIN_RULE_MESSAGES } from './pin-rules';
import { Card, CLOSED_STATUSES, SolarisRegistry } from './registry';
import { modelNotFound, solarisError, unauthorizedAction } from './solaris-http';

/** A required, non-empty string, refused in Solaris' words naming the field. */
export const requiredString = (field: string) =>
  z.string({ error: (issue) => `${field} ${issue.input === undefined ? 'is missing' : 'must be a string'}` }).min(1, `${field} must not be empty`);

export const pinUpdateRequestSchema = z.object(
  {
    device_id: requiredString('device_id'),
    encrypted_pin: requiredString('encrypted_pin'),
    key_id: requiredString('key_id'),
    signature: requiredString('signature'),
    device_data: z.string({ error: 'device_data must be a string' }).optional(),
  },
  { error: 'the body must be a JSON object' },
);
export type PinUpdateRequest = z.output<typeof pinUpdateRequestSchema>;

/** What a successful `pin_update_requests` call answers. */
export interface PinUpdateResponse {
  id: string;
  status: 'COMPLETED';
}

/**
 * Identifies one intended change in `GET /sandbox/applied`: the device's JWE, by its SHA-256 (hex),
 * since a relayed request carries the same JWE however often it is sent.
 */
function appliedKeyOf(encryptedPin: string): string {
  return createHash('sha256').update(encryptedPin).digest('hex');
}

/**
 * Solaris' change-card-PIN. The device bound to the card's owner signed the JWE it encrypted to
 * Solaris' latest PIN key, and the PIN inside follows Solaris' rules; checked in that order, each
 * failure a Solaris error. On success the card keeps only a hash of the new PIN.
 */
@Injectable()
export class PinUpdates {
  constructor(
    private readonly registry: SolarisRegistry,
    private readonly keys: PinKeys,
    private readonly calls: CallLog,
  ) {}

  /** Checks and changes in one step, so nothing can change the card between the two. */
  async changePin(cardId: string, request: PinUpdateRequest): Promise<PinUpdateResponse> {
    const card = this.cardOf(cardId);
    this.apply(card, PinHash.of(this.checkedPin(card, request)), request.encrypted_pin);
    return { id: randomUUID(), status: 'COMPLETED' };
  }

  cardOf(cardId: string): Card {
    const card = this.registry.card(cardId);
    if (!card) throw modelNotFound('Solaris::CardAccount', cardId);
    return card;
  }

  /** Gives the card the new PIN (by its hash), counted under the device JWE that asked for it. */
  apply(card: Card, pinHash: PinHash, encryptedPin: string): void {
    card.pinHash = pinHash;
    card.pinChangedAt = new Date();
    card.pinChanges += 1;
    this.calls.countApplied(appliedKeyOf(encryptedPin), 'pinChanges');
  }

  /** The PIN the request carries, once device, key, signature and Solaris' PIN rules passed. */
  checkedPin(card: Card, request: PinUpdateRequest): string {
    const device = this.registry.device(request.device_id);
    // An unknown device is refused like another person's: the caller learns nothing about devices.
    if (device?.personId !== card.personId || CLOSED_STATUSES.has(card.status)) throw unauthorizedAction();
    const key = this.keys.find(request.key_id);
    if (!key) throw solarisError('validation_error', 'key_id is not the id of the latest PIN key', 'key_id');
    const deviceKey = device.keys.restricted;
    if (!deviceKey || !deviceSignatureIsValid(deviceKey, request.encrypted_pin, request.signature)) {
      throw solarisError('validation_error', "signature is not a signature of encrypted_pin by the device's restricted key", 'signature');
    }
    const pin = decryptPin(request.encrypted_pin, key);
    const broken = brokenPinRule(pin);
    if (broken) throw solarisError('invalid_pin', `pin ${PIN_RULE_MESSAGES[broken]}`, 'pin');
    return pin;
  }
}
