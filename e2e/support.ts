import { OPERATOR_SCOPE, PIN_READ_SCOPE, PIN_WRITE_SCOPE } from '@pinflow/auth';
import { encryptPin, PinKeyRing } from '@pinflow/pin-crypto';
import { AppName, APPS, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, Stack, StackOptions, startStack } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { TestEnv, testEnv, TopicRecorder, waitFor } from '@pinflow/testing';
import { CompactEncrypt } from 'jose';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/**
 * The stack an end-to-end suite runs against, on the test run's broker and database, with state and
 * logs in a fresh directory and debug logs: the most talkative, which the leak searches cover too.
 */
function startSuiteStack({ env = {}, kafka = testEnv(), ...options }: Pick<SuiteOptions, 'apps' | 'env' | 'kafka'>): Promise<Stack> {
  const { kafkaBrokers, kafkaSecurity } = kafka;
  const { databaseUrl } = testEnv();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-e2e-'));
  // On a secured broker (PINFLOW_KAFKA_SECURED=1, or the suite's own) each app signs in as its own principal.
  const withKafkaSecurity = Object.fromEntries(APPS.map((app) => [app, { ...kafkaSecurity?.apps[app], ...env[app] }]));
  return startStack({ kafkaBrokers, databaseUrl, stateDir: path.join(work, 'state'), logDir: path.join(work, 'logs'), logLevel: 'debug', env: withKafkaSecurity, ...options });
}

export interface SuiteOptions extends Pick<StackOptions, 'apps' | 'env'> {
  /** Whom the write token is issued to: the issuer's backend that submits changes. */
  writer: string;
  /** The Kafka topics the suite records from the start. */
  topics: string[];
  /** The broker the suite runs on, if not the test run's. */
  kafka?: SuiteKafka;
}

/** A broker a suite runs on, as the test run's (testEnv) describes it. */
export type SuiteKafka = Pick<TestEnv, 'kafkaBrokers' | 'kafkaSecurity'>;

/** What an end-to-end suite works with: its stack, users' tokens and client, and what crossed its topics. */
export interface Suite {
  stack: Stack;
  client: PinflowClient;
  /** `pin:write`, issued to the suite's writer. */
  writeToken: string;
  /** `pin:read` with `pinflow:operator`, issued to the back office: it reads every caller's requests. */
  readToken: string;
  recorder: TopicRecorder;
  stop(): Promise<void>;
}

/** Starts a suite's stack (`apps`, or all of them) and, once it is ready, its tokens, client and recorder. */
export async function startSuite({ writer, topics, kafka = testEnv(), ...stackOptions }: SuiteOptions): Promise<Suite> {
  const stack = await startSuiteStack({ ...stackOptions, kafka });
  try {
    const writeToken = await stack.secrets.token([PIN_WRITE_SCOPE], { subject: writer });
    const readToken = await stack.secrets.token([PIN_READ_SCOPE, OPERATOR_SCOPE], { subject: 'back-office' });
    const recorder = await new TopicRecorder(kafka.kafkaBrokers, topics, kafka.kafkaSecurity?.client).start();
    const stop = async () => {
      await recorder.stop();
      await stack.stop();
    };
    return { stack, client: new PinflowClient(stack, writeToken, readToken), writeToken, readToken, recorder, stop };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** A client of one of the stack's sandboxes; with `tokenPath`, signed in as the workers are, for its vendor endpoints. */
export async function sandboxOf(stack: Stack, sandbox: AppName, tokenPath?: string): Promise<SandboxClient> {
  const url = stack.urls[sandbox];
  return tokenPath ? SandboxClient.signedIn(url, tokenPath, { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET }) : new SandboxClient(url);
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** Talks to a running stack the way its users do: over HTTP, with bearer tokens. */
export class PinflowClient {
  constructor(private readonly stack: Stack, private readonly writeToken: string, private readonly readToken: string) {}

  async seedCard(cardId: string, card: Record<string, unknown> = {}): Promise<void> {
    const result = await http('PUT', `${this.stack.urls['sandbox-pismo']}/sandbox/cards/${cardId}`, { body: { status: 'NORMAL', ...card } });
    if (result.status >= 300) throw new Error(`seeding ${cardId} failed: ${result.status}`);
  }

  sandbox<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
    return http<T>(method, `${this.stack.urls['sandbox-pismo']}${path}`, { body });
  }

  encrypt(pin: string, keyRing: PinKeyRing = this.stack.secrets.pinKeyRing): Promise<string> {
    return encryptPin(pin, keyRing.currentPublicJwk);
  }

  /** A JWE of any payload, for what a careless client might encrypt (encryptPin itself refuses non-PINs). */
  encryptPayload(payload: unknown): Promise<string> {
    const key = this.stack.secrets.pinKeyRing.currentPublicJwk;
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: key.kid }).encrypt(key);
  }

  /** POSTs a request to intake at `path` with the write token (unless told otherwise) and an Idempotency-Key (a new one unless told). */
  submit(path: string, body: unknown, options: { token?: string; idempotencyKey?: string } = {}): Promise<HttpResult> {
    return http('POST', `${this.stack.urls.intake}${path}`, {
      token: options.token ?? this.writeToken,
      body,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
    });
  }

  changePin(cardId: string, body: unknown, options: { token?: string; idempotencyKey?: string } = {}): Promise<HttpResult> {
    return this.submit(`/v1/pismo/cards/${cardId}/pin`, body, options);
  }

  increaseTries(cardId: string, blockCardExceedsCounter = true): Promise<HttpResult> {
    return this.submit(`/v1/pismo/cards/${cardId}/password-tries/increase`, { blockCardExceedsCounter });
  }

  status(requestId: string, token = this.readToken): Promise<HttpResult> {
    return http('GET', `${this.stack.urls.intake}/v1/requests/${requestId}`, { token });
  }

  /** Waits until intake reports a final outcome for the request, and returns the status body. */
  async outcome(requestId: string, timeoutMs = 30_000): Promise<any> {
    return waitFor(`the outcome of ${requestId}`, async () => {
      const { status, body } = await this.status(requestId);
      return status === 200 && body.status !== 'accepted' ? body : undefined;
    }, timeoutMs);
  }

  auditRequest(requestId: string): Promise<HttpResult> {
    return http('GET', `${this.stack.urls.audit}/v1/requests/${requestId}/events`, { token: this.readToken });
  }

  auditCard(cardId: string, query = ''): Promise<HttpResult> {
    return http('GET', `${this.stack.urls.audit}/v1/cards/${cardId}/events${query}`, { token: this.readToken });
  }
}

/** Every row of every table, as JSON text: what a PIN leak into the database would show up in. */
export async function dumpDatabase(databaseUrl: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    const parts: string[] = [];
    for (const { table_name } of tables) {
      const { rows } = await client.query(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      parts.push(...rows.map((row: { row: string }) => `${table_name}: ${row.row}`));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

export function readLogs(stack: Stack): string {
  return Object.values(stack.services)
    // A stack started with `apps` leaves the others unstarted, without a log.
    .filter((service) => service.pid !== undefined)
    .map((service) => readFileSync(service.logFile, 'utf8'))
    .join('\n');
}

/** Error-level lines of the stack's logs, but for kafkajs' own start-up chatter (coordinator not yet available). */
export function errorLogLines(stack: Stack): string[] {
  return readLogs(stack)
    .split('\n')
    .filter((line) => line.includes('"level":"error"') && !line.includes('"component":"kafkajs"'));
}

/** The messages the suite recorded that `subject` caused: command topics are shared with other suites, callers are not. */
export function messagesCausedBy(suite: Suite, subject: string): string[] {
  return suite.recorder.messages.map((message) => message.value).filter((value) => (JSON.parse(value) as { caller?: { subject?: string } }).caller?.subject === subject);
}

/** Where a PIN occurs as a number of its own (not inside a longer run of digits). */
export function occurrences(haystack: string, pins: string[]): string[] {
  return pins.filter((pin) => new RegExp(`(?<![0-9])${pin}(?![0-9])`).test(haystack));
}

/**
 * `occurrences` for PINs as short as four digits, which turn up by chance inside ids, hashes, tokens
 * and JWEs: every run of 16 or more letters, digits, `_` and `-` (a UUID, a hex digest, a base64url
 * segment) is taken out before the search.
 */
export function shortPinOccurrences(haystack: string, pins: string[]): string[] {
  return occurrences(haystack.replace(/[A-Za-z0-9_-]{16,}/g, '<opaque>'), pins);
}
