import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';

export interface PismoHosts {
  pciBaseUrl: string;
  apiBaseUrl: string;
}

/** A PIN block as Pismo takes it: enciphered under the zone PIN key `keyId` names. */
export interface EncipheredPinBlock {
  pinBlock: string;
  keyId: string;
}

export interface PinBlockUpdate extends EncipheredPinBlock {
  syncOfflinePin: boolean;
}

/**
 * A PIN update script as Pismo appends it: the issuer's pre-registered script and the PIN it writes to
 * the chip, as the PIN itself or as a PIN block.
 */
export type PinUpdateScript = { scriptId: string; accountId: string } & ({ pin: string } | EncipheredPinBlock);

/** Pismo's card endpoints, on two hosts, behind one client-credentials token; `cid` goes out as x-cid. */
export class PismoClient {
  constructor(
    private readonly http: OAuth2HttpClient,
    private readonly hosts: PismoHosts,
  ) {}

  /** PUT /pcicards/v2/pcicards/card/{cardId}; 201 with `"[<cid>] Card updated"` on success. */
  changePin(cardId: string, pin: string, syncOfflinePin: boolean, cid: string): Promise<VendorCallResult> {
    return this.http.send({
      method: 'PUT',
      url: joinUrl(this.hosts.pciBaseUrl, `/pcicards/v2/pcicards/card/${encodeURIComponent(cardId)}`),
      headers: { 'x-cid': cid },
      body: { pin, sync_offline_pin: syncOfflinePin },
    });
  }

  /** PUT /pcicards/v1/pcicards/{cardId}/pinblock; 204 on success, then update_password-1 as for a change. */
  updatePinFromPinBlock(cardId: string, update: PinBlockUpdate, cid: string): Promise<VendorCallResult> {
    return this.http.send({
      method: 'PUT',
      url: joinUrl(this.hosts.pciBaseUrl, `/pcicards/v1/pcicards/${encodeURIComponent(cardId)}/pinblock`),
      headers: { 'x-cid': cid },
      body: { pinblock: update.pinBlock, key_id: update.keyId, sync_offline_pin: update.syncOfflinePin },
    });
  }

  /** POST /wallet/v2/cards/{cardId}/password-tries/increase; 200 on success. */
  increasePasswordTries(cardId: string, blockCardExceedsCounter: boolean, cid: string): Promise<VendorCallResult> {
    return this.http.send({
      method: 'POST',
      url: joinUrl(this.hosts.apiBaseUrl, `/wallet/v2/cards/${encodeURIComponent(cardId)}/password-tries/increase`),
      headers: { 'x-cid': cid },
      body: { block_card_exceeds_counter: blockCardExceedsCounter },
    });
  }

  /** POST /wallet/v2/cards/{cardId}/password-tries/reset, without a body; 200 `{success: true}`, 406 for a card whose status allows no reset. */
  resetPasswordTries(cardId: string, cid: string): Promise<VendorCallResult> {
    return this.http.send({
      method: 'POST',
      url: joinUrl(this.hosts.apiBaseUrl, `/wallet/v2/cards/${encodeURIComponent(cardId)}/password-tries/reset`),
      headers: { 'x-cid': cid },
    });
  }

  /** POST /pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin, without a body; 204 on success. */
  syncOfflinePin(cardId: string, cid: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: this.scriptsUrl(cardId, 'sync-offline-pin'), headers: { 'x-cid': cid } });
  }

  /** POST /pcicards/v1/pcicards/{cardId}/scripts/pin-update with x-account-id, `pin` or `pin_block` + `key_id`; 200 with the card script on success. */
  appendPinUpdateScript(cardId: string, script: PinUpdateScript, cid: string): Promise<VendorCallResult> {
    return this.http.send({
      method: 'POST',
      url: this.scriptsUrl(cardId, 'pin-update'),
      headers: { 'x-cid': cid, 'x-account-id': script.accountId },
      body: { script_id: script.scriptId, ...('pin' in script ? { pin: script.pin } : { pin_block: script.pinBlock, key_id: script.keyId }) },
    });
  }

  private scriptsUrl(cardId: string, script: string): string {
    return joinUrl(this.hosts.pciBaseUrl, `/pcicards/v1/pcicards/${encodeURIComponent(cardId)}/scripts/${script}`);
  }
}
