import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { checkPin, PISMO_PIN_RULES, THALES_D1_PIN_RULES, VAULT_PIN_RULES, SOLARIS_PIN_RULES, PinRules } from '@pinflow/pin-policy';
import { SolarisDevice, SolarisPinJwk } from '@pinflow/testing';
import { randomInt } from 'node:crypto';
import { Stack, THALES_D1_ISSUER_ID } from './stack';

export type VendorName = 'pismo' | 'solaris' | 'thales-d1' | 'vault';

/** One PIN change as a caller of intake makes it: where to POST and what. */
export interface PinChangeRequest {
  path: string;
  body: Record<string, unknown>;
  /** The same change on the Kafka door: vendor, operation, path parameters and body, without the envelope (schemaVersion, clientRequestId, replyTopic). */
  kafkaRequest: Record<string, unknown>;
}

async function json(response: Response): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

function put(url: string, body: unknown): Promise<any> {
  return fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
}

/** A random PIN the vendor's rules accept; made up in memory and never printed. */
export function acceptablePin(rules: PinRules, digits = rules.minLength): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** digits)).padStart(digits, '0');
    if (checkPin(pin, rules).ok) return pin;
  }
}

/** A Luhn-valid test PAN (issuer range 999999, never a real card). */
export function testPan(): string {
  const body = `999999${String(randomInt(0, 1e9)).padStart(9, '0')}`;
  let sum = 0;
  for (let index = 0; index < body.length; index += 1) {
    let digit = Number(body[body.length - 1 - index]);
    if (index % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/**
 * How to make a valid PIN change for each vendor through a running stack: seed the card in the
 * vendor's sandbox, then build the request as that vendor's callers do (a Solaris device encrypts
 * and signs; Vault's cardholder types the code Vault texted). Used by the start command, the
 * benchmark and the failure drills.
 */
export class PinChangeScenarios {
  private readonly devices = new Map<string, SolarisDevice>();
  /** The sandbox never reveals a PAN, so the scenario remembers the ones it seeded. */
  private readonly pans = new Map<string, string>();
  private solarisKey?: SolarisPinJwk;

  constructor(private readonly stack: Stack, private readonly token: string) {}

  /** A card id the vendor accepts. Vault's are int64. */
  cardId(vendor: VendorName, index: number): string {
    return vendor === 'vault' ? String(4_000_000_000 + index) : `${vendor}-card-${index}`;
  }

  async seed(vendor: VendorName, cardId: string): Promise<void> {
    const sandbox = this.stack.urls[`sandbox-${vendor}`];
    switch (vendor) {
      case 'pismo':
        await put(`${sandbox}/sandbox/cards/${cardId}`, { status: 'NORMAL' });
        return;
      case 'solaris': {
        const device = new SolarisDevice();
        const personId = `person-${cardId}`;
        await put(`${sandbox}/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex });
        await put(`${sandbox}/sandbox/cards/${cardId}`, { personId });
        this.devices.set(cardId, device);
        return;
      }
      case 'thales-d1': {
        const pan = testPan();
        await put(`${sandbox}/sandbox/cards/${cardId}`, { pan });
        this.pans.set(cardId, pan);
        return;
      }
      case 'vault':
        await put(`${sandbox}/sandbox/cards/${cardId}`, {});
        return;
    }
  }

  /** A fresh, valid request for a seeded card. */
  async request(vendor: VendorName, cardId: string): Promise<PinChangeRequest> {
    const pinKey = this.stack.secrets.pinKeyRing.currentPublicJwk as PinPublicJwk;
    switch (vendor) {
      case 'pismo': {
        const body = { encryptedPin: await encryptSecret('pin', acceptablePin(PISMO_PIN_RULES, 6), pinKey) };
        return { path: `/v1/pismo/cards/${cardId}/pin`, body, kafkaRequest: { vendor, operation: 'change_pin', cardId, body } };
      }
      case 'solaris': {
        const device = this.devices.get(cardId);
        if (!device) throw new Error(`card ${cardId} was not seeded`);
        this.solarisKey ??= await fetch(`${this.stack.urls.intake}/v1/solaris/pin-key`, { headers: { authorization: `Bearer ${this.token}` } }).then(json);
        const signed = await device.encryptAndSign(acceptablePin(SOLARIS_PIN_RULES), this.solarisKey!);
        const body = { deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature };
        return { path: `/v1/solaris/cards/${cardId}/pin`, body, kafkaRequest: { vendor, operation: 'change_pin', cardId, body } };
      }
      case 'thales-d1': {
        const pan = this.pans.get(cardId);
        if (!pan) throw new Error(`card ${cardId} was not seeded`);
        const body = { pinBlockFormat: 'ISO0', encryptedPin: await encryptSecret('pin', acceptablePin(THALES_D1_PIN_RULES, 6), pinKey), encryptedPan: await encryptSecret('pan', pan, pinKey) };
        return {
          path: `/v1/thales-d1/issuers/${THALES_D1_ISSUER_ID}/cards/${cardId}/pin`,
          body,
          kafkaRequest: { vendor, operation: 'change_pin', issuerId: THALES_D1_ISSUER_ID, cardId, body },
        };
      }
      case 'vault': {
        const { code } = await fetch(`${this.stack.urls['sandbox-vault']}/sandbox/cards/${cardId}/otp`, { method: 'POST' }).then(json);
        const body = { encryptedPasscode: await encryptSecret('passcode', acceptablePin(VAULT_PIN_RULES), pinKey), encryptedCode: await encryptSecret('oneTimeCode', code, pinKey) };
        return { path: `/v1/vault/cards/${cardId}/passcode`, body, kafkaRequest: { vendor, operation: 'set_passcode', cardId, body } };
      }
    }
  }
}
