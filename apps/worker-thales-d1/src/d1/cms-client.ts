import { joinUrl, OAuth2HttpClient, VendorCallResult } from '@pinflow/worker-kit';
import { z } from 'zod';
import type { PinBlockJson } from './pin-block-json';

/** A card as D1's PIN Management API addresses it. */
export interface CardAddress {
  issuerId: string;
  cardId: string;
}

export interface EncryptedPinBlock {
  type: PinBlockJson['format'];
  /** The JSON PIN block as a JWE to the CMS's key. */
  encryptedPinBlock: string;
}

/** The sandbox's answer to a counter read (D1 does not publish one): `{"changeCounter": 7}`. */
const changeCounterAnswer = z.object({ changeCounter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

/** The counter in the body of a successful counter read; undefined when the body does not hold one. */
export function changeCounterOf(body: string): number | undefined {
  try {
    return changeCounterAnswer.parse(JSON.parse(body)).changeCounter;
  } catch {
    return undefined;
  }
}

/**
 * The PIN Management endpoints a card management system exposes to D1, behind the CMS's
 * client-credentials token. `correlationId` goes out as x-correlation-id, which the CMS logs.
 */
export class CmsClient {
  constructor(
    private readonly http: OAuth2HttpClient,
    private readonly baseUrl: string,
  ) {}

  /** PUT .../pin `{type, encryptedPinBlock}`; 204 once the CMS holds the PIN. */
  setPin(card: CardAddress, body: EncryptedPinBlock, correlationId: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'PUT', url: this.pinUrl(card), headers: { 'x-correlation-id': correlationId }, body });
  }

  /** GET .../pin/changeCounter; 200 `{"changeCounter": <integer>}`. */
  changeCounter(card: CardAddress, correlationId: string): Promise<VendorCallResult> {
    return this.http.send({ method: 'GET', url: `${this.pinUrl(card)}/changeCounter`, headers: { 'x-correlation-id': correlationId } });
  }

  private pinUrl({ issuerId, cardId }: CardAddress): string {
    return joinUrl(this.baseUrl, `/cms/api/v1/issuers/${encodeURIComponent(issuerId)}/cards/${encodeURIComponent(cardId)}/pin`);
  }
}
