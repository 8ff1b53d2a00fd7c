import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';

/** The body of `code/set`. */
export interface VaultPasscodeBody {
  /** The id of the key `passCode` was encrypted to. */
  keyId: string;
  /** The cardholder's one-time code, in clear: Vault's example sends it so, and only `passCode` is encrypted. */
  code: string;
  /** The passcode, RSA-encrypted to Vault's key, base64. */
  passCode: string;
}

/**
 * Vault's card passcode endpoints (Card Program 1), behind one client-credentials token. The SMS step's
 * paths (`passcode/sms/send`, `passcode/sms/verify`) are inferred from the flow: Vault documents only `code/set`.
 */
export class VaultClient {
  constructor(
    private readonly http: OAuth2HttpClient,
    private readonly baseUrl: string,
  ) {}

  /** GET /v2/card/rsa-public-key → `{id, publicKey}`. */
  publicKey(): Promise<VendorCallResult> {
    return this.http.send({ method: 'GET', url: joinUrl(this.baseUrl, '/v2/card/rsa-public-key') });
  }

  /** POST /v2/card/{id}/passcode/code/set → `{result: "ok"}`; `cardId` is Vault's int64 card id. */
  setPasscode(cardId: string, body: VaultPasscodeBody): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: this.passcodeUrl(cardId, 'code/set'), body });
  }

  /** POST /v2/card/{id}/passcode/sms/send → `{result: "ok"}`: Vault texts the cardholder a new code. */
  sendCode(cardId: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: this.passcodeUrl(cardId, 'sms/send') });
  }

  /** POST /v2/card/{id}/passcode/sms/verify with `{code}` in clear, as `code/set` takes it → `{result: "ok"}`; the code stays usable. */
  verifyCode(cardId: string, code: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'POST', url: this.passcodeUrl(cardId, 'sms/verify'), body: { code } });
  }

  private passcodeUrl(cardId: string, step: string): string {
    return joinUrl(this.baseUrl, `/v2/card/${encodeURIComponent(cardId)}/passcode/${step}`);
  }
}
