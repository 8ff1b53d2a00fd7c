import type { SolarisChangePinCommand } from '@pinflow/contracts';
import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';

type DeviceMade = Pick<SolarisChangePinCommand, 'deviceId' | 'encryptedPin' | 'keyId' | 'signature' | 'deviceData'>;

/** The body of `POST /v1/cards/{card_account_id}/pin_update_requests`: what the cardholder's device made. */
export interface PinUpdateRequest {
  device_id: string;
  encrypted_pin: string;
  key_id: string;
  signature: string;
  device_data?: string;
}

/** The command's device-made fields, relayed untouched: Solaris checks the signature over the exact JWE text. */
export function pinUpdateRequestOf(command: DeviceMade): PinUpdateRequest {
  return {
    device_id: command.deviceId,
    encrypted_pin: command.encryptedPin,
    key_id: command.keyId,
    signature: command.signature,
    ...(command.deviceData === undefined ? {} : { device_data: command.deviceData }),
  };
}

/** `POST /v1/change_requests/{id}/authorize`: which person authorizes, and how they will confirm (with which device). */
export interface AuthorizeChangeRequest {
  person_id: string;
  delivery_method: string;
  device_id?: string;
}

/** `POST /v1/change_requests/{id}/confirm`: the TAN Solaris texted the person, or their device's signature of `string_to_sign`. */
export type ConfirmChangeRequest = { person_id: string; tan: string } | { person_id: string; device_signature: { signature: string } };

/** Solaris' change-card-PIN endpoints, behind its client-credentials token. Solaris takes no correlation id. */
export class SolarisClient {
  constructor(
    private readonly http: OAuth2HttpClient,
    private readonly baseUrl: string,
  ) {}

  /** 201 `{id, status}` once the PIN is changed; JSON:API errors otherwise. */
  requestPinUpdate(cardAccountId: string, body: PinUpdateRequest): Promise<VendorCallResult> {
    return this.http.send({
      method: 'POST',
      url: joinUrl(this.baseUrl, `/v1/cards/${encodeURIComponent(cardAccountId)}/pin_update_requests`),
      body,
    });
  }

  /** 202 with a change request `{id, status, url}`: the PIN changes only once the change request completes. */
  requestScaPinUpdate(cardAccountId: string, body: PinUpdateRequest): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: joinUrl(this.baseUrl, `/v1/cards/${encodeURIComponent(cardAccountId)}/sca_pin_update_requests`), body });
  }

  /** 201 with the change request, CONFIRMATION_REQUIRED once Solaris sent the TAN. */
  authorizeChangeRequest(changeRequestId: string, body: AuthorizeChangeRequest): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: joinUrl(this.baseUrl, `/v1/change_requests/${encodeURIComponent(changeRequestId)}/authorize`), body });
  }

  /** 201 with the change request COMPLETED: Solaris applied the PIN. */
  confirmChangeRequest(changeRequestId: string, body: ConfirmChangeRequest): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: joinUrl(this.baseUrl, `/v1/change_requests/${encodeURIComponent(changeRequestId)}/confirm`), body });
  }

  /** 200 with the change request as it stands. */
  changeRequest(changeRequestId: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'GET', url: joinUrl(this.baseUrl, `/v1/change_requests/${encodeURIComponent(changeRequestId)}`) });
  }
}
