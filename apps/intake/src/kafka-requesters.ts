import { MessageSignatureVerifier } from '@pinflow/auth';
import { ConfigError, loadJsonFile } from '@pinflow/config';
import { requestTopic } from '@pinflow/contracts';
import type { TopicSpec } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { readFileSync } from 'node:fs';
import { IntakeConfig, kafkaRequesterRegistrations, KafkaRequesterRegistrations } from './config';

const FILE_VARIABLE = 'INTAKE_KAFKA_REQUESTERS_FILE';

/** One registered list of requesters, with the verifier of their signatures. */
interface Registered {
  registrations: KafkaRequesterRegistrations;
  verifier: MessageSignatureVerifier;
  /** The texts it was read from (the list and the key files it names). */
  texts: string;
}

/** The topics the Kafka door needs for a list of requesters. */
export interface RequesterTopics {
  /** Each requester's request topic, which intake consumes. */
  requestTopics: string[];
  /** Every reply topic a requester registered, which intake writes. */
  replyTopics: string[];
}

/** The request topics, keyed by card id like the command topics whose order they feed, and the reply topics. */
export function requesterTopicSpecs(config: Pick<IntakeConfig, 'KAFKA_COMMAND_PARTITIONS' | 'KAFKA_EVENT_PARTITIONS'>, { requestTopics, replyTopics }: RequesterTopics): TopicSpec[] {
  return [
    ...requestTopics.map((topic) => ({ topic, partitions: config.KAFKA_COMMAND_PARTITIONS })),
    ...replyTopics.map((topic) => ({ topic, partitions: config.KAFKA_EVENT_PARTITIONS })),
  ];
}

/**
 * The Kafka door's requesters: who may sign requests, with which keys, and where their answers may go.
 * From INTAKE_KAFKA_REQUESTERS, fixed; or from INTAKE_KAFKA_REQUESTERS_FILE, read again with the key
 * files it names every INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS, so that adding a requester, removing
 * one or replacing its keys needs no restart. A list that cannot be read or parsed, or whose keys cannot
 * be read, stops the start; later, the list in use stays and the failure is logged.
 */
export class KafkaRequesters {
  #registered: Registered;
  /** What the last reload read (usable or not): only a change is read again, and a refusal logged once. */
  #seen: string;
  readonly #listeners: ((topics: RequesterTopics) => Promise<void>)[] = [];
  #timer?: NodeJS.Timeout;
  #reloading?: Promise<void>;

  private constructor(
    registered: Registered,
    private readonly file: string | undefined,
    private readonly tenantsRequired: boolean,
    private readonly logger: Logger,
  ) {
    this.#registered = registered;
    this.#seen = registered.texts;
  }

  static async open(
    config: Pick<IntakeConfig, 'INTAKE_KAFKA_REQUESTERS' | 'INTAKE_KAFKA_REQUESTERS_FILE' | 'INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS' | 'INTAKE_CARD_OWNERSHIP'>,
    logger: Logger,
  ): Promise<KafkaRequesters> {
    const file = config.INTAKE_KAFKA_REQUESTERS_FILE;
    const tenantsRequired = config.INTAKE_CARD_OWNERSHIP === 'enforced';
    const registered = file ? await KafkaRequesters.read(file, tenantsRequired) : await KafkaRequesters.register(config.INTAKE_KAFKA_REQUESTERS ?? {}, '', 'INTAKE_KAFKA_REQUESTERS', tenantsRequired);
    const requesters = new KafkaRequesters(registered, file, tenantsRequired, logger);
    if (file) requesters.#timer = setInterval(() => void requesters.reload(), config.INTAKE_KAFKA_REQUESTERS_RELOAD_INTERVAL_MS).unref();
    return requesters;
  }

  /** The requesters registered now. */
  get names(): string[] {
    return Object.keys(this.#registered.registrations);
  }

  get topics(): RequesterTopics {
    const registrations = Object.entries(this.#registered.registrations);
    return {
      requestTopics: registrations.map(([name]) => requestTopic(name)),
      replyTopics: [...new Set(registrations.flatMap(([, registration]) => registration.replyTopics))],
    };
  }

  /** The tenant whose cards the requester acts on, as its registration names it. */
  tenantOf(requester: string): string | undefined {
    return this.#registered.registrations[requester]?.tenant;
  }

  /** Whether the requester registered `replyTopic` for its answers. */
  mayReplyOn(requester: string, replyTopic: string): boolean {
    return this.#registered.registrations[requester]?.replyTopics.includes(replyTopic) ?? false;
  }

  /** The registered requester who signed `payload` (see MessageSignatureVerifier.verify). */
  verify(payload: Uint8Array, detachedJws: string | undefined): Promise<string> {
    return this.#registered.verifier.verify(payload, detachedJws);
  }

  /** Calls `listener` with the new list's topics whenever a reload changed the list or its keys. */
  onChange(listener: (topics: RequesterTopics) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Reads the file again now (as the interval does), once at a time; resolves when the listeners are done. */
  reload(): Promise<void> {
    this.#reloading ??= this.reloadOnce().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  private async reloadOnce(): Promise<void> {
    if (!this.file) return;
    let registrations: KafkaRequesterRegistrations;
    try {
      registrations = loadJsonFile('intake', FILE_VARIABLE, this.file, kafkaRequesterRegistrations);
    } catch (error) {
      return this.refuse(readText(this.file), error);
    }
    const texts = KafkaRequesters.textsOf(this.file, registrations);
    if (texts === this.#seen) return;
    let registered: Registered;
    try {
      registered = await KafkaRequesters.register(registrations, texts, FILE_VARIABLE, this.tenantsRequired);
    } catch (error) {
      return this.refuse(texts, error);
    }
    this.#seen = texts;
    const before = this.topics;
    const names = new Set(this.names);
    this.#registered = registered;
    // Only another list of topics needs the consumer restarted; new keys are in effect already.
    if (JSON.stringify(this.topics) !== JSON.stringify(before)) {
      for (const listener of this.#listeners) {
        await listener(this.topics).catch((error: unknown) => this.logger.error({ error: (error as Error).message }, 'following the new Kafka requesters failed'));
      }
    }
    this.logger.info({ requesters: this.names, added: this.names.filter((name) => !names.has(name)), removed: [...names].filter((name) => !this.#registered.registrations[name]) }, 'Kafka requesters reloaded');
  }

  /** Logs why what was read cannot be used, once for as long as it stays the same. */
  private refuse(seen: string, error: unknown): void {
    if (seen === this.#seen) return;
    this.#seen = seen;
    this.logger.error({ error: error instanceof ConfigError ? error.problems : (error as Error).message }, 'reloading the Kafka requesters failed; keeping the requesters in use');
  }

  /** The list in `file` and its requesters' keys. */
  private static async read(file: string, tenantsRequired: boolean): Promise<Registered> {
    const registrations = loadJsonFile('intake', FILE_VARIABLE, file, kafkaRequesterRegistrations);
    return KafkaRequesters.register(registrations, KafkaRequesters.textsOf(file, registrations), FILE_VARIABLE, tenantsRequired);
  }

  /** While card ownership is enforced, a requester that names no tenant could act on no card: the list is refused. */
  private static async register(registrations: KafkaRequesterRegistrations, texts: string, setting: string, tenantsRequired: boolean): Promise<Registered> {
    const withoutTenant = Object.entries(registrations).filter(([, registration]) => tenantsRequired && registration.tenant === undefined);
    if (withoutTenant.length > 0) {
      throw new ConfigError('intake', withoutTenant.map(([requester]) => `${setting}.${requester}.tenant: required while card ownership is enforced: the tenant whose cards this requester acts on`));
    }
    return { registrations, verifier: await MessageSignatureVerifier.fromKeySources(registrations, setting), texts };
  }

  /** The list's text and those of the key files it names: a change in any of them is a new registration. */
  private static textsOf(file: string, registrations: KafkaRequesterRegistrations): string {
    const keyFiles = Object.values(registrations).flatMap((registration) => ('publicKeyFile' in registration ? [registration.publicKeyFile] : []));
    return JSON.stringify([readFileSync(file, 'utf8'), ...keyFiles.map((keyFile) => readText(keyFile))]);
  }
}

/** A key file's text, or a marker when it cannot be read (reading its keys then reports why). */
function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    return `unreadable: ${(error as NodeJS.ErrnoException).code}`;
  }
}
