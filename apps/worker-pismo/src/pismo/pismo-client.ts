import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';

export interface PismoHosts {
  pciBaseUrl: string;
  apiBaseUrl: string;
}

/** Pismo's two endpoints, on two hosts, behind one client-credentials token; `cid` goes out as x-cid. */
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
}
