import type { Vendor, VendorContract } from '@pinflow/contracts';
import type { PinPublicJwk } from '@pinflow/pin-crypto';
import type { SandboxClient } from '@pinflow/sandbox-kit';

/*
 * What the platform (npm start, the end-to-end tests, the benchmark, the drills) knows of a vendor:
 * how its sandbox and worker are wired, and how a caller makes a valid request of it. One file per
 * vendor in ./vendors, listed once in ./vendors/index.ts.
 */

export const SANDBOX_CLIENT_ID = 'pinflow';
export const SANDBOX_CLIENT_SECRET = 'sandbox-secret';

/** How a vendor's sandbox and worker find each other and the rest of the stack. */
export interface VendorWiring {
  /** Its sandbox's base URL. */
  sandboxUrl: string;
  /** Where the stack keeps state that survives restarts (keys exchanged at onboarding). */
  stateDir: string;
  /** `<PREFIX>_TOKEN_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`: the worker's OAuth2 client of its sandbox. */
  oauthClient(prefix: string, tokenPath: string): Record<string, string>;
}

/** One PIN change as a caller of intake makes it: where to POST and what. */
export interface PinChangeRequest {
  path: string;
  body: Record<string, unknown>;
}

/** What a scenario needs of the running stack to make a request. */
export interface ScenarioContext {
  sandboxUrl: string;
  intakeUrl: string;
  /** A bearer token for intake (for the keys intake proxies). */
  token: string;
  pinKey: PinPublicJwk;
  /** What the scenario remembers between seeding a card and requesting a change of it. */
  memory: Map<string, unknown>;
}

/** One ALLOW rule of a secured broker: `name` is a topic or group, `prefix` makes it every name that starts with it. */
export interface KafkaGrant {
  resource: 'topic' | 'group';
  name: string;
  prefix?: boolean;
  operations: ('READ' | 'WRITE' | 'CREATE' | 'DESCRIBE')[];
}

export interface VendorPlatform<Name extends Vendor = Vendor> {
  contract: VendorContract<Name>;
  /** Its worker decrypts secrets sealed by intake: it gets its own command key ring, intake its public half. */
  workerReadsPinKeys: boolean;
  sandboxEnv(wiring: VendorWiring): Record<string, string>;
  workerEnv(wiring: VendorWiring): Record<string, string>;
  /** What intake needs to serve keys it proxies from the vendor (Solaris' PIN key). */
  intakeEnv?(wiring: VendorWiring): Record<string, string>;
  /** Runs once its sandbox is ready, before any worker starts: what onboarding exchanges in production. */
  onboard?(wiring: VendorWiring): Promise<void>;
  /**
   * On a secured broker, what its worker needs beyond its commands and the events every worker has
   * (a vendor's own event stream), and what its sandbox needs, if it talks to Kafka at all.
   */
  kafkaGrants?: { worker?: KafkaGrant[]; sandbox?: KafkaGrant[] };
  /** Extra worker environment for the drills, whose recovery windows are short. */
  drillWorkerEnv?: Record<string, string>;
  scenario: {
    /** A card id the vendor accepts. */
    cardId(index: number): string;
    /** Each change needs a card of its own (and a request built just before it is sent). */
    oneChangePerCard?: boolean;
    seed(context: ScenarioContext, cardId: string): Promise<void>;
    request(context: ScenarioContext, cardId: string): Promise<PinChangeRequest>;
  };
  /** How the sandbox benchmark (tools/bench/sandbox-cost.ts) drives the sandbox directly, as the vendor's worker calls it. */
  sandboxBench: SandboxBenchDriver;
  /** How the drills count a change in the sandbox's `/sandbox/applied`: the operation it counts, and the key it counts it under. */
  applied: {
    operation: string;
    /** The command id intake gave it (the vendor's correlation id), the card, or something of the request. */
    key: 'commandId' | 'cardId' | ((request: PinChangeRequest) => string);
  };
}

/** One vendor call, ready to send. */
export interface PreparedCall {
  method: string;
  route: string;
  body: unknown;
  headers?: Record<string, string>;
}

/** How to drive one vendor's sandbox: its environment, its token path, and its main PIN operation. */
export interface SandboxBenchDriver {
  env: Record<string, string>;
  tokenPath: string;
  /** The status of a successful call. */
  successStatus: number;
  /** The sandbox publishes events, as the vendor does: it needs a broker. */
  needsKafka?: boolean;
  /** Seeds the cards `count` calls need and prepares those calls, encrypting as the vendor's callers do. */
  prepare(sandbox: SandboxClient, count: number): Promise<PreparedCall[]>;
  /** A vendor call that does next to nothing (token, drills, a lookup), answered 200: the floor under every call. */
  floor: PreparedCall;
}

/** Cards the benchmark's calls of a vendor that keeps no per-call state on the card are spread over. */
export const BENCH_CARD_POOL = 100;

/** Seeds sandbox state through a signed-in sandbox client. */
export async function seeded(sandbox: SandboxClient, route: string, body: unknown): Promise<any> {
  const answer = await sandbox.call('PUT', route, { body });
  if (answer.status !== 200) throw new Error(`seeding ${route} answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

async function json(response: Response): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Seeds sandbox state with the sandbox's own admin API. */
export function put(url: string, body: unknown): Promise<any> {
  return fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(json);
}

export function get(url: string, init?: RequestInit): Promise<any> {
  return fetch(url, init).then(json);
}
