import { EVENTS_TOPIC } from '@pinflow/contracts';
import type { Stack } from '@pinflow/platform';
import type { SandboxClient } from '@pinflow/sandbox-kit';
import { SolarisDevice, SolarisPinJwk, testEnv, TopicRecorder } from '@pinflow/testing';
import { randomUUID } from 'node:crypto';
import { dumpDatabase, http, readLogs, sandboxOf, shortPinOccurrences } from './support';

/** A person with a device bound to Solaris, and a card of theirs. */
export interface SolarisCardholder {
  personId: string;
  cardId: string;
  device: SolarisDevice;
}

/** A PIN as the cardholder's device hands it to the issuer's backend: encrypted to Solaris' key and signed. */
export interface DevicePinChange {
  deviceId: string;
  encryptedPin: string;
  keyId: string;
  signature: string;
}

/**
 * The Solaris sandbox as the Solaris suites drive it: its test hooks, the cardholders they make, the
 * cards they use and every JWE and signature a device made (relayed by pinflow, never to be logged),
 * for the leak scans.
 */
export class SolarisWorld {
  readonly cards = new Set<string>();
  readonly relayed: string[] = [];

  private constructor(
    private readonly stack: Stack,
    readonly sandbox: SandboxClient,
    private readonly writeToken: string,
  ) {}

  static async of(stack: Stack, writeToken: string): Promise<SolarisWorld> {
    return new SolarisWorld(stack, await sandboxOf(stack, 'sandbox-solaris', '/oauth2/token'), writeToken);
  }

  /** A sandbox test hook's answer body; anything but a 2xx fails the test. */
  async hook(method: string, route: string, body?: unknown): Promise<any> {
    const answer = await this.sandbox.call(method, route, { body });
    if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  newCardId(): string {
    const cardId = `card-${randomUUID()}`;
    this.cards.add(cardId);
    return cardId;
  }

  async cardholder(): Promise<SolarisCardholder> {
    const personId = `person-${randomUUID()}`;
    const cardId = this.newCardId();
    const device = new SolarisDevice(`device-${randomUUID()}`);
    await this.hook('PUT', `/sandbox/persons/${personId}/devices/${device.id}`, { publicKey: device.publicKeyHex, purpose: 'restricted' });
    await this.hook('PUT', `/sandbox/cards/${cardId}`, { personId });
    return { personId, cardId, device };
  }

  /** The app: Solaris' PIN key comes from intake; the device encrypts `{"pin"}` to it and signs the JWE. */
  async onDevice(device: SolarisDevice, pin: string): Promise<DevicePinChange> {
    const key = await http<SolarisPinJwk>('GET', `${this.stack.urls.intake}/v1/solaris/pin-key`, { token: this.writeToken });
    if (key.status !== 200) throw new Error(`GET /v1/solaris/pin-key: ${key.status}`);
    const signed = await device.encryptAndSign(pin, key.body);
    this.relayed.push(signed.encrypted_pin, signed.signature);
    return { deviceId: device.id, encryptedPin: signed.encrypted_pin, keyId: signed.key_id, signature: signed.signature };
  }

  /**
   * The suite's leak scan: none of `secrets` (PINs, TANs) in its cards' Kafka messages, the services'
   * logs or the database's rows, and no JWE or signature a device made in any event or log. Commands
   * (and intake's outbox) carry those by design, opaque to pinflow: they are left out of the search.
   */
  async expectNoLeaks(recorder: TopicRecorder, secrets: string[], minMessages: number): Promise<void> {
    const withoutRelayed = (text: string) => this.relayed.reduce((result, secret) => result.replaceAll(secret, '<relayed>'), text);
    // Let in-flight work finish so that its logs and rows are part of the search.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const messages = recorder.messages.filter((message) => message.key !== null && this.cards.has(message.key));
    expect(messages.length).toBeGreaterThan(minMessages);
    const kafkaText = messages.map((message) => `${message.key} ${message.value} ${JSON.stringify(message.headers)}`).join('\n');
    expect(shortPinOccurrences(withoutRelayed(kafkaText), secrets)).toEqual([]);
    const eventText = messages.filter((message) => message.topic === EVENTS_TOPIC).map((message) => message.value).join('\n');
    expect(this.relayed.filter((secret) => eventText.includes(secret))).toEqual([]);

    const logs = readLogs(this.stack);
    expect(logs).toContain('worker-solaris');
    expect(shortPinOccurrences(logs, secrets)).toEqual([]);
    expect(this.relayed.filter((secret) => logs.includes(secret))).toEqual([]);

    const rows = await dumpDatabase(testEnv().databaseUrl);
    expect(rows).toContain('vendor_commands');
    expect(shortPinOccurrences(withoutRelayed(rows), secrets)).toEqual([]);
  }
}
