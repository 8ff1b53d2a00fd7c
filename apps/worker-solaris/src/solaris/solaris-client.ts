import type { SolarisChangePinCommand } from '@pinflow/contracts';
import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';

/** The body of `POST /v1/cards/{card_account_id}/pin_update_requests`: what the cardholder's device made. */
export interface PinUpdateRequest {
  device_id: string;
  encrypted_pin: string;
  key_id: string;
  signature: string;
  device_data?: string;
}

/** The command's device-made fields, relayed untouched: Solaris checks the signature over the exact JWE text. */
export function pinUpdateRequestOf(command: SolarisChangePinCommand): PinUpdateRequest {
  return {
    device_id: command.deviceId,
    encrypted_pin: command.encryptedPin,
    key_id: command.keyId,
    signature: command.signature,
    ...(command.deviceData === undefined ? {} : { device_data: command.deviceData }),
  };
}

/** Solaris' change-card-PIN endpoint, behind its client-credentials token. Solaris takes no correlation id. */
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
}
