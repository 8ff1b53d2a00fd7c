import { Injectable } from '@nestjs/common';
import { PinHash, VendorError } from '@pinflow/sandbox-kit';
import { KeyObject, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { deviceSignatureIsValid } from './device-signature';
import { PinUpdateRequest, PinUpdates, requiredString } from './pin-update';
import { Card, SolarisRegistry } from './registry';
import { modelNotFound, solarisError, unauthorizedAction } from './solaris-http';

export const CHANGE_REQUEST_STATUSES = ['ACCEPTED', 'AUTHORIZATION_REQUIRED', 'CONFIRMATION_REQUIRED', 'COMPLETED', 'FAILED'] as const;
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

const NOT_AN_OBJECT = { error: 'the body must be a JSON object' };

/** SMS TAN (`mobile_number`), or `device_signing` by a device bound to the person. */
export const authorizeSchema = z.discriminatedUnion(
  'delivery_method',
  [
    z.object({ person_id: requiredString('person_id'), delivery_method: z.literal('mobile_number') }),
    z.object({ person_id: requiredString('person_id'), delivery_method: z.literal('device_signing'), device_id: requiredString('device_id') }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'delivery_method must be mobile_number or device_signing' : NOT_AN_OBJECT.error) },
);

/** The TAN, or the device's signature over `string_to_sign`, as the change request was authorized. */
export const confirmSchema = z.union(
  [
    z.strictObject({ person_id: requiredString('person_id'), tan: requiredString('tan') }),
    z.strictObject({ person_id: requiredString('person_id'), device_signature: z.strictObject({ signature: requiredString('device_signature.signature') }) }),
  ],
  { error: 'the body must hold person_id and either tan or device_signature.signature' },
);

/** Solaris' change request as its endpoints answer it; `url` is where the next step is posted. */
export interface ChangeRequestView {
  id: string;
  status: ChangeRequestStatus;
  updated_at: string;
  url: string;
  /** For device_signing: what the device signs to confirm. */
  string_to_sign?: string;
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
  confirmation?: { method: 'mobile_number'; tan: PinHash } | { method: 'device_signing'; stringToSign: string; deviceKey: KeyObject };
  wrongConfirmations: number;
  /** Why a FAILED change request failed. */
  failure?: 'expired' | 'too_many_wrong_confirmations';
}

const TAN_DIGITS = 6;

/**
 * Wrong TANs or signatures a change request takes; the last of them FAILS it. Solaris' change request
 * documentation gives no number: 3, as card issuers commonly allow for a PIN or TAN.
 */
export const MAX_WRONG_CONFIRMATIONS = 3;

/**
 * Solaris' change requests for `sca_pin_update_requests`: the device-made PIN change is checked at
 * once and held until the cardholder's person authorizes it (Solaris texts a TAN, or hands their bound
 * device a string to sign) and confirms it with that TAN or signature; only then does the card get the PIN. A change request not completed within its lifetime,
 * or confirmed wrongly {@link MAX_WRONG_CONFIRMATIONS} times, FAILS and answers 410 from then on. Authorizing or confirming again what already happened answers
 * as the first time and sends or applies nothing again.
 */
@Injectable()
export class ChangeRequests {
  private readonly requests = new Map<string, ChangeRequest>();
  private readonly phones = new Map<string, TextMessage[]>();

  constructor(
    private readonly pinUpdates: PinUpdates,
    private readonly registry: SolarisRegistry,
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
      wrongConfirmations: 0,
    };
    this.requests.set(changeRequest.id, changeRequest);
    return viewOf(changeRequest);
  }

  authorize(id: string, authorization: z.output<typeof authorizeSchema>, now = new Date()): ChangeRequestView {
    const changeRequest = this.open(id, authorization.person_id, now);
    if (changeRequest.status === 'AUTHORIZATION_REQUIRED') {
      changeRequest.confirmation = this.confirmationFor(changeRequest, authorization, now);
      changeRequest.status = 'CONFIRMATION_REQUIRED';
      changeRequest.updatedAt = now;
    }
    return viewOf(changeRequest);
  }

  confirm(id: string, confirmation: z.output<typeof confirmSchema>, now = new Date()): ChangeRequestView {
    const changeRequest = this.open(id, confirmation.person_id, now);
    if (!changeRequest.confirmation) throw solarisError('validation_error', 'the change request must be authorized before it is confirmed');
    try {
      refuseUnlessConfirmedBy(changeRequest.confirmation, confirmation);
    } catch (error) {
      throw this.countWrong(changeRequest, error, now);
    }
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
    if (changeRequest.status === 'FAILED') throw failedError(changeRequest);
    return changeRequest;
  }

  /**
   * A wrong TAN or signature (422) counts against the change request; the one that uses up
   * MAX_WRONG_CONFIRMATIONS FAILS it and says so. A TAN given for a signature (400) does not count.
   */
  private countWrong(changeRequest: ChangeRequest, error: unknown, now: Date): unknown {
    if (!(error instanceof VendorError) || error.status !== 422 || changeRequest.status !== 'CONFIRMATION_REQUIRED') return error;
    changeRequest.wrongConfirmations += 1;
    if (changeRequest.wrongConfirmations < MAX_WRONG_CONFIRMATIONS) return error;
    changeRequest.status = 'FAILED';
    changeRequest.failure = 'too_many_wrong_confirmations';
    changeRequest.updatedAt = now;
    return failedError(changeRequest);
  }

  private find(id: string): ChangeRequest {
    const changeRequest = this.requests.get(id);
    if (!changeRequest) throw modelNotFound('Solaris::ChangeRequest', id);
    return changeRequest;
  }

  private failIfExpired(changeRequest: ChangeRequest, now: Date): void {
    if (changeRequest.status === 'COMPLETED' || changeRequest.status === 'FAILED' || now < changeRequest.expiresAt) return;
    changeRequest.status = 'FAILED';
    changeRequest.failure = 'expired';
    changeRequest.updatedAt = changeRequest.expiresAt;
  }

  /** Texts the person a TAN, or makes the string their device is to sign. */
  private confirmationFor(changeRequest: ChangeRequest, authorization: z.output<typeof authorizeSchema>, now: Date): ChangeRequest['confirmation'] {
    if (authorization.delivery_method === 'mobile_number') {
      const tan = String(randomInt(0, 10 ** TAN_DIGITS)).padStart(TAN_DIGITS, '0');
      this.phones.set(changeRequest.card.personId, [...this.textsTo(changeRequest.card.personId), { changeRequestId: changeRequest.id, tan, sentAt: now.toISOString() }]);
      return { method: 'mobile_number', tan: PinHash.of(tan) };
    }
    const device = this.registry.device(authorization.device_id);
    const deviceKey = device?.personId === changeRequest.card.personId ? device.keys.restricted : undefined;
    if (!deviceKey) throw unauthorizedAction();
    return { method: 'device_signing', stringToSign: randomBytes(32).toString('hex'), deviceKey };
  }
}

/** 410 for a FAILED change request, saying why it failed. */
function failedError(changeRequest: ChangeRequest): VendorError {
  return changeRequest.failure === 'too_many_wrong_confirmations'
    ? solarisError('too_many_wrong_confirmations', `the change request failed after ${MAX_WRONG_CONFIRMATIONS} wrong confirmations`, undefined, 410)
    : solarisError('change_request_expired', 'the change request expired before it was confirmed', undefined, 410);
}

/** The confirmation must be of the kind the change request was authorized for, and right. */
function refuseUnlessConfirmedBy(expected: NonNullable<ChangeRequest['confirmation']>, given: z.output<typeof confirmSchema>): void {
  if (expected.method === 'mobile_number') {
    if (!('tan' in given)) throw solarisError('validation_error', 'tan is missing: the change request was authorized for mobile_number', 'tan');
    if (!expected.tan.matches(given.tan)) throw solarisError('invalid_tan', 'tan is not the TAN sent for this change request', 'tan', 422);
    return;
  }
  if (!('device_signature' in given)) throw solarisError('validation_error', 'device_signature is missing: the change request was authorized for device_signing', 'device_signature');
  if (!deviceSignatureIsValid(expected.deviceKey, expected.stringToSign, given.device_signature.signature)) {
    throw solarisError('invalid_signature', "device_signature is not the device's signature of string_to_sign", 'device_signature.signature', 422);
  }
}

function viewOf({ id, status, updatedAt, confirmation }: ChangeRequest): ChangeRequestView {
  const step = status === 'AUTHORIZATION_REQUIRED' ? '/authorize' : status === 'CONFIRMATION_REQUIRED' ? '/confirm' : '';
  const view: ChangeRequestView = { id, status, updated_at: updatedAt.toISOString(), url: `/v1/change_requests/${id}${step}` };
  if (status === 'CONFIRMATION_REQUIRED' && confirmation?.method === 'device_signing') view.string_to_sign = confirmation.stringToSign;
  return status === 'COMPLETED' ? { ...view, response_code: 201, response_body: { id, status: 'COMPLETED' } } : view;
}
