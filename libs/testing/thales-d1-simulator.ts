import { calculateJwkThumbprint, CompactEncrypt, type JWK } from 'jose';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** The PIN block types of D1's `type`, and their JSON blocks (apps/sandbox-thales-d1/README.md, "The JSON PIN block"). */
export type D1PinBlockJson = { format: 'ISO0'; pinBlock: string } | { format: '3DES_SECCOS'; pinBlock: string; changeCounter: number };

export interface D1Answer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * An issuer's encryption key pair as onboarding makes it: the card management system keeps the private
 * half, Thales gets the public one (with its `kid`) to encrypt PIN blocks to.
 */
export async function issuerEncryptionKeyPair(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y, d } = privateKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: kty!, crv: crv!, x: x!, y: y! });
  return { privateJwk: { kty, crv, x, y, d, kid }, publicJwk: { kty, crv, x, y, kid, alg: 'ECDH-ES', use: 'enc' } };
}

/**
 * A clear ISO 9564-1 format 1 block: `1`, the PIN's length, its digits and random fill, what the
 * Seccos JSON block carries. Built here as D1 builds it, independently of pinflow's own code.
 */
export function iso1Block(pin: string): string {
  const fill = randomBytes(8).toString('hex').slice(0, 14 - pin.length);
  return `1${pin.length.toString(16)}${pin}${fill}`.toUpperCase();
}

/**
 * A clear ISO 9564-1 format 0 block: `0`, the PIN's length, its digits and F fill, XOR `0000` and the
 * 12 rightmost PAN digits without the check digit, what the ISO0 JSON block carries. Built here, as
 * {@link iso1Block}, independently of pinflow's own code, so that tests reading pinflow's do not trust it.
 */
export function iso0Block(pin: string, pan: string): string {
  const pinField = `0${pin.length.toString(16)}${pin}`.padEnd(16, 'F');
  const panField = `0000${pan.slice(0, -1).slice(-12).padStart(12, '0')}`;
  return (BigInt(`0x${pinField}`) ^ BigInt(`0x${panField}`)).toString(16).padStart(16, '0').toUpperCase();
}

/**
 * Thales D1 calling an issuer's card management system, as D1's PIN Management API describes it:
 * an OAuth2 client-credentials token (HTTP Basic, a form body), then the card calls with
 * `Authorization: Bearer`, `x-correlation-id` and the JSON PIN block as a compact JWE (ECDH-ES,
 * A256GCM, the CMS's `kid`).
 */
export class ThalesD1Simulator {
  private token?: string;

  constructor(
    private readonly cmsBaseUrl: string,
    private readonly credentials: { clientId: string; clientSecret: string },
    private readonly cmsPublicJwk: JWK,
  ) {}

  /** `POST /authz/d1/v1/oauth2/token`; keeps the token for the card calls. */
  async signIn(credentials = this.credentials, body = 'grant_type=client_credentials'): Promise<D1Answer> {
    const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
    const answer = await this.call('POST', '/authz/d1/v1/oauth2/token', { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body);
    if (answer.status === 200) this.token = answer.body.access_token;
    return answer;
  }

  /** The JWE D1 sends as `encryptedPinBlock`: any plaintext, to the CMS's key unless told otherwise. */
  encrypt(plaintext: string, options: { kid?: string; enc?: string } = {}): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: options.enc ?? 'A256GCM', kid: options.kid ?? this.cmsPublicJwk.kid })
      .encrypt(this.cmsPublicJwk);
  }

  /** `PUT .../pin {type, encryptedPinBlock}` with the JSON PIN block encrypted afresh, as each of D1's calls does. */
  async setPin(issuerId: string, cardId: string, block: D1PinBlockJson, options: { correlationId?: string; token?: string } = {}): Promise<D1Answer> {
    return this.setPinBody(issuerId, cardId, { type: block.format, encryptedPinBlock: await this.encrypt(JSON.stringify(block)) }, options);
  }

  /** `PUT .../pin` with any body. */
  setPinBody(issuerId: string, cardId: string, body: unknown, options: { correlationId?: string; token?: string } = {}): Promise<D1Answer> {
    return this.call('PUT', this.pinPath(issuerId, cardId), { ...this.headers(options), 'content-type': 'application/json' }, JSON.stringify(body));
  }

  /** `GET .../pin/changeCounter`: the card's Seccos PIN change counter, `{changeCounter}`. */
  readChangeCounter(issuerId: string, cardId: string, options: { correlationId?: string; token?: string } = {}): Promise<D1Answer> {
    return this.call('GET', `${this.pinPath(issuerId, cardId)}/changeCounter`, this.headers(options));
  }

  /**
   * A Seccos PIN change as D1 makes one: reads the card's change counter, computes the block with it
   * (here: an ISO 9564 format 1 block and the counter, as the JSON block carries them) and pushes it.
   */
  async changePinSeccos(issuerId: string, cardId: string, pin: string, options: { correlationId?: string } = {}): Promise<D1Answer> {
    const read = await this.readChangeCounter(issuerId, cardId, options);
    if (read.status !== 200) return read;
    return this.setPin(issuerId, cardId, { format: '3DES_SECCOS', pinBlock: iso1Block(pin), changeCounter: read.body.changeCounter }, options);
  }

  /** An ISO0 PIN change as D1 makes one: the format 0 block of the PIN under the card's PAN, which D1 knows and the call does not carry. */
  changePinIso0(issuerId: string, cardId: string, pin: string, pan: string, options: { correlationId?: string } = {}): Promise<D1Answer> {
    return this.setPin(issuerId, cardId, { format: 'ISO0', pinBlock: iso0Block(pin, pan) }, options);
  }

  /** `GET .../pin`. */
  readPin(issuerId: string, cardId: string, options: { correlationId?: string; token?: string } = {}): Promise<D1Answer> {
    return this.call('GET', this.pinPath(issuerId, cardId), this.headers(options));
  }

  private pinPath(issuerId: string, cardId: string): string {
    return `/cms/api/v1/issuers/${encodeURIComponent(issuerId)}/cards/${encodeURIComponent(cardId)}/pin`;
  }

  private headers({ correlationId, token }: { correlationId?: string; token?: string }): Record<string, string> {
    const bearer = token ?? this.token;
    return { ...(bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}), ...(correlationId !== undefined ? { 'x-correlation-id': correlationId } : {}) };
  }

  private async call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<D1Answer> {
    const response = await fetch(`${this.cmsBaseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
}
