import type { KeyObject } from 'node:crypto';
import type { PinHash } from '@pinflow/sandbox-kit';

/** Solaris' card statuses. */
export const CARD_STATUSES = ['PROCESSING', 'INACTIVE', 'ACTIVE', 'BLOCKED', 'BLOCKED_BY_SOLARIS', 'ACTIVATION_BLOCKED_BY_SOLARIS', 'CLOSED', 'CLOSED_BY_SOLARIS'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/** A closed card is gone for good: nothing about it can change, its PIN included. */
export const CLOSED_STATUSES: ReadonlySet<CardStatus> = new Set(['CLOSED', 'CLOSED_BY_SOLARIS']);

/**
 * Solaris' device-binding key purposes. PIN changes must be signed with the `restricted` key (the
 * one the device only releases after the cardholder's biometrics or passcode).
 */
export const KEY_PURPOSES = ['restricted', 'unrestricted'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** A device bound to a person, with its public key per purpose. */
export interface BoundDevice {
  deviceId: string;
  personId: string;
  keys: Partial<Record<KeyPurpose, KeyObject>>;
}

/** One card account: its owner, status and (only as a hash) its PIN. */
export interface Card {
  cardId: string;
  personId: string;
  status: CardStatus;
  pinHash?: PinHash;
  pinChangedAt?: Date;
  pinChanges: number;
}

/** The persons' bound devices and the cards the sandbox knows; both exist only once seeded. */
export class SolarisRegistry {
  private readonly devices = new Map<string, BoundDevice>();
  private readonly cards = new Map<string, Card>();

  /**
   * Binds the device to the person, or adds a key of another purpose to it. A device id bound to
   * someone else moves to this person with only the new key, as after re-binding a phone.
   */
  bindDevice(personId: string, deviceId: string, purpose: KeyPurpose, key: KeyObject): BoundDevice {
    const existing = this.devices.get(deviceId);
    const device: BoundDevice = existing?.personId === personId ? existing : { deviceId, personId, keys: {} };
    device.keys[purpose] = key;
    this.devices.set(deviceId, device);
    return device;
  }

  device(deviceId: string): BoundDevice | undefined {
    return this.devices.get(deviceId);
  }

  /** Creates the card or replaces it with a fresh one, without a PIN. */
  seedCard(cardId: string, personId: string, status: CardStatus): Card {
    const card: Card = { cardId, personId, status, pinChanges: 0 };
    this.cards.set(cardId, card);
    return card;
  }

  card(cardId: string): Card | undefined {
    return this.cards.get(cardId);
  }

  clear(): void {
    this.devices.clear();
    this.cards.clear();
  }
}
