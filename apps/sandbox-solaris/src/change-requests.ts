import { Injectable } from '@nestjs/common';
import { PinHash } from '@pinflow/sandbox-kit';
import { randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PinUpdateRequest, PinUpdates, requiredString } from './pin-update';
import { Card } from './registry';
import { modelNotFound, solarisError, unauthorizedAction } from './solaris-http';

export const CHANGE_REQUEST_STATUSES = ['ACCEPTED', 'AUTHORIZATION_REQUIRED', 'CONFIRMATION_REQUIRED', 'COMPLETED', 'FAILED'] as const;
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

/** Only the SMS TAN: the sandbox does not play Solaris' device-signing confirmation. */
export const authorizeSchema = z.object(
  {
    person_id: requiredString('person_id'),
    delivery_method: z.literal('mobile_number', { error: 'delivery_method must be mobile_number' }),
  },
  { error: 'the body must be a JSON object' },
);

export const confirmSchema = z.object({ person_id: requiredString('person_id'), tan: requiredString('tan') }, { error: 'the body must be a JSON object' });

/** Solaris' change request as its endpoints answer it; `url` is where the next step is posted. */
export interface ChangeRequestView {
  id: string;
  status: ChangeRequestStatus;
  updated_at: string;
  url: string;
  /** Once COMPLETED: what the held call (the PIN update) answered. */
  response_code?: number;
  response_body?: { id: string; status: 'COMPLETED' };
}

/** What the cardholder's phone received. */
export interface TextMessage {
  changeRequestId: string;
  tan: string;
  sentAt: string;
}

interface ChangeRequest {
  id: string;
  card: Card;
  status: ChangeRequestStatus;
  updatedAt: Date;
  expiresAt: Date;
  /** The checked new PIN, only as a hash, applied when the change request completes. */
  pinHash: PinHash;
  encryptedPin: string;
  tan?: PinHash;
}

const TAN_DIGITS = 6;

/**
 * Solaris' change requests for `sca_pin_update_requests`: the device-made PIN change is checked at
 * once and held until the cardholder's person authorizes it (Solaris texts a TAN) and confirms it with
 * that TAN; only then does the card get the PIN. A change request not completed within its lifetime
 * FAILS and answers 410 from then on. Authorizing or confirming again what already happened answers
 * as the first time and sends or applies nothing again.
 */
@Injectable()
export class ChangeRequests {
  private readonly requests = new Map<string, ChangeRequest>();
  private readonly phones = new Map<string, TextMessage[]>();

  constructor(
    private readonly pinUpdates: PinUpdates,
    private readonly ttlMs: number,
  ) {}

  create(cardId: string, request: PinUpdateRequest, now = new Date()): ChangeRequestView {
    const card = this.pinUpdates.cardOf(cardId);
    const pinHash = PinHash.of(this.pinUpdates.checkedPin(card, request));
    const changeRequest: ChangeRequest = {
      id: `${randomUUID().replaceAll('-', '')}cchr`,
      card,
      status: 'AUTHORIZATION_REQUIRED',
      updatedAt: now,
      expiresAt: new Date(now.getTime() + this.ttlMs),
      pinHash,
      encryptedPin: request.encrypted_pin,
    };
    this.requests.set(changeRequest.id, changeRequest);
    return viewOf(changeRequest);
  }

  authorize(id: string, { person_id }: z.output<typeof authorizeSchema>, now = new Date()): ChangeRequestView {
    const changeRequest = this.open(id, person_id, now);
    if (changeRequest.status === 'AUTHORIZATION_REQUIRED') {
      const tan = String(randomInt(0, 10 ** TAN_DIGITS)).padStart(TAN_DIGITS, '0');
      changeRequest.tan = PinHash.of(tan);
      changeRequest.status = 'CONFIRMATION_REQUIRED';
      changeRequest.updatedAt = now;
      this.text(changeRequest.card.personId, { changeRequestId: id, tan, sentAt: now.toISOString() });
    }
    return viewOf(changeRequest);
  }

  confirm(id: string, { person_id, tan }: z.output<typeof confirmSchema>, now = new Date()): ChangeRequestView {
    const changeRequest = this.open(id, person_id, now);
    if (changeRequest.status === 'AUTHORIZATION_REQUIRED') throw solarisError('validation_error', 'the change request must be authorized before it is confirmed');
    if (!changeRequest.tan?.matches(tan)) throw solarisError('invalid_tan', 'tan is not the TAN sent for this change request', 'tan', 422);
    if (changeRequest.status === 'CONFIRMATION_REQUIRED') {
      this.pinUpdates.apply(changeRequest.card, changeRequest.pinHash, changeRequest.encryptedPin);
      changeRequest.status = 'COMPLETED';
      changeRequest.updatedAt = now;
    }
    return viewOf(changeRequest);
  }

  /** For tests: the lifetime of the change request ends now. */
  expire(id: string, now = new Date()): ChangeRequestView {
    const changeRequest = this.find(id);
    if (changeRequest.status !== 'COMPLETED') changeRequest.expiresAt = now;
    return viewOf(changeRequest);
  }

  view(id: string, now = new Date()): ChangeRequestView {
    const changeRequest = this.find(id);
    this.failIfExpired(changeRequest, now);
    return viewOf(changeRequest);
  }

  /** Every text the person's phone received, oldest first. */
  textsTo(personId: string): TextMessage[] {
    return this.phones.get(personId) ?? [];
  }

  clear(): void {
    this.requests.clear();
    this.phones.clear();
  }

  /** The change request, when the person may act on it and it has not run out. */
  private open(id: string, personId: string, now: Date): ChangeRequest {
    const changeRequest = this.find(id);
    if (changeRequest.card.personId !== personId) throw unauthorizedAction();
    this.failIfExpired(changeRequest, now);
    if (changeRequest.status === 'FAILED') throw solarisError('change_request_expired', 'the change request expired before it was confirmed', undefined, 410);
    return changeRequest;
  }

  private find(id: string): ChangeRequest {
    const changeRequest = this.requests.get(id);
    if (!changeRequest) throw modelNotFound('Solaris::ChangeRequest', id);
    return changeRequest;
  }

  private failIfExpired(changeRequest: ChangeRequest, now: Date): void {
    if (changeRequest.status === 'COMPLETED' || changeRequest.status === 'FAILED' || now < changeRequest.expiresAt) return;
    changeRequest.status = 'FAILED';
    changeRequest.updatedAt = changeRequest.expiresAt;
  }

  private text(personId: string, message: TextMessage): void {
    this.phones.set(personId, [...this.textsTo(personId), message]);
  }
}

function viewOf({ id, status, updatedAt }: ChangeRequest): ChangeRequestView {
  const step = status === 'AUTHORIZATION_REQUIRED' ? '/authorize' : status === 'CONFIRMATION_REQUIRED' ? '/confirm' : '';
  const view: ChangeRequestView = { id, status, updated_at: updatedAt.toISOString(), url: `/v1/change_requests/${id}${step}` };
  return status === 'COMPLETED' ? { ...view, response_code: 201, response_body: { id, status: 'COMPLETED' } } : view;
}
