import { OPERATOR_SCOPE } from '@pinflow/auth';
import { EVENT_TYPES, PISMO_PIN_RULES, SOLARIS_PIN_RULES } from '@pinflow/contracts';
import { encryptSecret, PinPublicJwk } from '@pinflow/pin-crypto';
import { type D1Answer, issuerEncryptionKeyPair, SolarisDevice, SolarisPinJwk, ThalesD1Simulator, waitFor } from '@pinflow/testing';
import type { JWK } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acceptablePin, PinChangeScenarios, testPan } from './pin-change-scenarios';
import { Stack, VENDOR_NAMES } from './stack';
import { get, put } from './vendor-platform';

/** The issuer Thales D1 calls the local platform as the CMS of, whose cards Pismo holds (as in docker-compose.yml). */
const D1_ISSUER = 'ISSUER0002';

interface Outcome {
  requestId: string;
  status: string;
  events: { time: string; type: string; data: Record<string, any> }[];
}

async function json(response: Response): Promise<any> {
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * `npm start`'s demonstration: requests through intake's front door as an issuer's backend makes them,
 * each followed to its outcome and printed with its events.
 */
export class Demo {
  private constructor(
    private readonly stack: Stack,
    private readonly token: string,
    private readonly operatorToken: string,
  ) {}

  static async of(stack: Stack): Promise<Demo> {
    return new Demo(
      stack,
      await stack.secrets.token(['pin:write', 'pin:read'], { subject: 'pinflow-demo' }),
      // D1's pushes are D1's requests: only an operator may follow them.
      await stack.secrets.token(['pin:read', OPERATOR_SCOPE], { subject: 'pinflow-demo-operator' }),
    );
  }

  /** One PIN change per vendor, each vendor's `scenario`. */
  async firstPinChanges(): Promise<void> {
    const scenarios = new PinChangeScenarios(this.stack, this.token);
    for (const vendor of VENDOR_NAMES) {
      const cardId = scenarios.cardId(vendor, 1);
      await scenarios.seed(vendor, cardId);
      const request = await scenarios.request(vendor, cardId);
      await this.submit(vendor, request.path, request.body);
    }
  }

  /** The operations beyond a PIN change: Pismo's tries reset and PIN block, Vault's SMS code, Solaris' change request. */
  async otherOperations(): Promise<void> {
    const pinKey = this.stack.secrets.pinKeyRing.currentPublicJwk as PinPublicJwk;
    const sandbox = (vendor: string) => this.stack.urls[`sandbox-${vendor}` as keyof Stack['urls']];

    await this.submit('pismo', '/v1/pismo/cards/pismo-card-1/password-tries/reset', {});
    const pan = testPan();
    await put(`${sandbox('pismo')}/sandbox/cards/pismo-card-3`, { status: 'NORMAL', pan });
    await this.submit('pismo', '/v1/pismo/cards/pismo-card-3/pin-block', { encryptedPin: await encryptSecret('pin', acceptablePin(PISMO_PIN_RULES, 6), pinKey), encryptedPan: await encryptSecret('pan', pan, pinKey) });

    const vaultCard = '4000000002';
    await put(`${sandbox('vault')}/sandbox/cards/${vaultCard}`, {});
    await this.submit('vault', `/v1/vault/cards/${vaultCard}/verification-code`, {});
    const { code } = await get(`${sandbox('vault')}/sandbox/cards/${vaultCard}/otp`);
    await this.submit('vault', `/v1/vault/cards/${vaultCard}/verification-code/check`, { encryptedCode: await encryptSecret('oneTimeCode', code, pinKey) });

    const [personId, cardId, device] = ['person-solaris-card-2', 'solaris-card-2', new SolarisDevice()];
    await put(`${sandbox('solaris')}/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex });
    await put(`${sandbox('solaris')}/sandbox/cards/${cardId}`, { personId });
    const solarisKey: SolarisPinJwk = await get(`${this.stack.urls.intake}/v1/solaris/pin-key`, { headers: { authorization: `Bearer ${this.token}` } });
    const signed = await device.encryptAndSign(acceptablePin(SOLARIS_PIN_RULES), solarisKey);
    const requested = await this.submit('solaris', `/v1/solaris/cards/${cardId}/pin/change-requests`, { deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature, personId });
    const { changeRequestId } = requested.events.find((event) => event.type === EVENT_TYPES.confirmationRequired)!.data;
    // The TAN Solaris texted the cardholder, from the sandbox's phone.
    const texts: { changeRequestId: string; tan: string }[] = await get(`${sandbox('solaris')}/sandbox/persons/${personId}/sms`);
    const { tan } = texts.find((text) => text.changeRequestId === changeRequestId)!;
    await this.submit('solaris', `/v1/solaris/cards/${cardId}/pin/change-requests/${changeRequestId}/confirm`, { personId, encryptedTan: await encryptSecret('oneTimeCode', tan, pinKey) });
  }

  /**
   * Thales D1 (the simulator) pushes PINs into pinflow, for Pismo: a Seccos PIN block after reading the
   * card's change counter, then an ISO0 block it made with the PAN of a card Pismo holds.
   */
  async d1Push(d1: ThalesD1Simulator): Promise<void> {
    const scenarios = new PinChangeScenarios(this.stack, this.token);
    const cardId = scenarios.cardId('pismo', 2);
    await scenarios.seed('pismo', cardId);
    await d1.signIn();
    await this.printD1Push(cardId, '3DES_SECCOS', await d1.changePinSeccos(D1_ISSUER, cardId, acceptablePin(PISMO_PIN_RULES, 6), { correlationId: randomUUID() }));
    const [iso0Card, pan] = ['pismo-card-d1-iso0', testPan()];
    await put(`${this.stack.urls['sandbox-pismo']}/sandbox/cards/${iso0Card}`, { status: 'NORMAL', pan });
    await this.printD1Push(iso0Card, 'ISO0', await d1.changePinIso0(D1_ISSUER, iso0Card, acceptablePin(PISMO_PIN_RULES, 6), pan, { correlationId: randomUUID() }));
  }

  private async printD1Push(cardId: string, type: string, answer: D1Answer): Promise<void> {
    const statusUrl = answer.headers.get('location');
    if (answer.status !== 204 || !statusUrl) throw new Error(`the D1 push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    this.print(`thales-d1 → pinflow: PUT /cms/api/v1/issuers/${D1_ISSUER}/cards/${cardId}/pin (${type}) → 204`, await this.outcome(statusUrl, this.operatorToken));
  }

  private async submit(vendor: string, route: string, body: unknown): Promise<Outcome> {
    const accepted = await json(
      await fetch(`${this.stack.urls.intake}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(body),
      }),
    );
    const outcome = await this.outcome(accepted.statusUrl, this.token);
    this.print(`${vendor}: POST ${route} → 202`, outcome);
    return outcome;
  }

  private outcome(statusUrl: string, token: string): Promise<Outcome> {
    return waitFor(`${statusUrl} to finish`, async () => {
      const status: Outcome = await json(await fetch(statusUrl, { headers: { authorization: `Bearer ${token}` } }));
      return status.status === 'accepted' ? undefined : status;
    }, 60_000, 250);
  }

  private print(call: string, outcome: Outcome): void {
    console.log(`\n${call}, request ${outcome.requestId}: ${outcome.status}`);
    for (const event of outcome.events) console.log(`  ${event.time}  ${event.type}`);
  }
}

/**
 * Thales D1 calling the local platform: pinflow's P-256 key D1 encrypts PIN blocks to (kept in the state
 * directory, where docker-compose.yml mounts it from), D1's credentials for this run, and intake's
 * settings for them.
 */
export async function d1Inbound(stateDir: string): Promise<{ env: Record<string, string>; simulator: (intakeUrl: string) => ThalesD1Simulator }> {
  const keyFile = path.join(stateDir, 'd1-inbound-encryption-key.json');
  if (!existsSync(keyFile)) writeFileSync(keyFile, JSON.stringify((await issuerEncryptionKeyPair()).privateJwk), { mode: 0o600 });
  const { d: _private, ...publicJwk } = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  const credentials = { clientId: 'thales-d1', clientSecret: randomBytes(32).toString('base64url') };
  return {
    env: { D1_INBOUND_ISSUERS: JSON.stringify({ [D1_ISSUER]: { vendor: 'pismo' } }), D1_INBOUND_CLIENT_ID: credentials.clientId, D1_INBOUND_CLIENT_SECRET: credentials.clientSecret, D1_INBOUND_ENCRYPTION_KEY_FILE: keyFile },
    simulator: (intakeUrl) => new ThalesD1Simulator(intakeUrl, credentials, publicJwk),
  };
}
