import { REQUEST_SIGNATURE_HEADER, requestTopic } from '@pinflow/contracts';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A message ready for kafkajs' producer.send. */
export interface SignedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One requester's entry in INTAKE_KAFKA_REQUESTERS. */
interface Registration {
  publicKeyFile: string;
  replyTopics: string[];
}

/**
 * An upstream system on intake's Kafka door: an ES256 key pair whose public half is registered with
 * intake (`intakeEnv`), the detached JWS it puts on each request it publishes, and the request topic
 * it publishes them to.
 */
export class KafkaRequester {
  /** Its request topic, which only it may write where Kafka authentication is on. */
  readonly topic: string;

  private constructor(
    readonly name: string,
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly registration: Registration,
  ) {
    this.topic = requestTopic(name);
  }

  static async create(name: string, replyTopics: string[] = []): Promise<KafkaRequester> {
    const kid = `${name}-1`;
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwksFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-requester-')), `${name}.jwks.json`);
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid, alg: 'ES256', use: 'sig' }] }));
    return new KafkaRequester(name, kid, keys.privateKey, { publicKeyFile: jwksFile, replyTopics });
  }

  /** INTAKE_KAFKA_REQUESTERS registering these requesters, their public keys and reply topics, and the tenants of those named in `tenants`. */
  static intakeEnvOf(requesters: KafkaRequester[], tenants: Record<string, string> = {}): { INTAKE_KAFKA_REQUESTERS: string } {
    return { INTAKE_KAFKA_REQUESTERS: KafkaRequester.registrationsOf(requesters, tenants) };
  }

  /** The JSON that registers these requesters (with the tenants of those named in `tenants`), as INTAKE_KAFKA_REQUESTERS or INTAKE_KAFKA_REQUESTERS_FILE takes it. */
  static registrationsOf(requesters: KafkaRequester[], tenants: Record<string, string> = {}): string {
    const registrations = requesters.map((requester) => [requester.name, { ...requester.registration, ...(tenants[requester.name] ? { tenant: tenants[requester.name] } : {}) }]);
    return JSON.stringify(Object.fromEntries(registrations));
  }

  /** INTAKE_KAFKA_REQUESTERS registering this requester alone. */
  get intakeEnv(): { INTAKE_KAFKA_REQUESTERS: string } {
    return KafkaRequester.intakeEnvOf([this]);
  }

  /** A compact JWS with detached payload over the value's exact bytes; `key` signs in this requester's name with another key. */
  async signature(value: Uint8Array, key: CryptoKey = this.privateKey): Promise<string> {
    const jws = await new CompactSign(value).setProtectedHeader({ alg: 'ES256', kid: this.kid, iss: this.name }).sign(key);
    const [protectedHeader, , signed] = jws.split('.');
    return `${protectedHeader}..${signed}`;
  }

  /** A request keyed by its card, signed (unless `key` is null) over the bytes it is sent as. */
  async message(cardId: string, request: unknown, key: CryptoKey | null = this.privateKey): Promise<SignedMessage> {
    const value = Buffer.from(typeof request === 'string' ? request : JSON.stringify(request));
    return { key: cardId, value, headers: key === null ? {} : { [REQUEST_SIGNATURE_HEADER]: await this.signature(value, key) } };
  }
}
