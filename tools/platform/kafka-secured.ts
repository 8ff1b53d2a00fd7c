import { commandTopic, EVENTS_TOPIC, requestTopic, Vendor, VENDORS } from '@pinflow/contracts';
import { DEAD_LETTER_TOPIC } from '@pinflow/kafka';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, KafkaConfig, logLevel, ResourcePatternTypes } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LocalKafka, startLocalKafka } from './kafka';
import { LocalKafkaCluster, startLocalKafkaCluster } from './kafka-cluster';
import type { AppName } from './stack';
import type { KafkaGrant } from './vendor-platform';
import { VENDOR_PLATFORMS } from './vendors';

/** The broker's own user, its only super user: it creates the ACLs, and tests record topics as it. */
export const KAFKA_ADMIN_PRINCIPAL = 'admin';

/**
 * The upstream systems on intake's Kafka door that the local broker knows, each a principal of its
 * own name (its requester id, see INTAKE_KAFKA_REQUESTERS) with the one reply topic it reads.
 */
export const KAFKA_REQUESTERS = { 'core-banking': 'core-banking.pinflow-answers', 'card-lifecycle': 'card-lifecycle.pinflow-answers' } as const;
export type KafkaRequesterName = keyof typeof KAFKA_REQUESTERS;
const REQUESTER_NAMES = Object.keys(KAFKA_REQUESTERS) as KafkaRequesterName[];

/** An app that talks to Kafka, as the principal of its own name, or a requester. */
export type KafkaPrincipal = AppName | KafkaRequesterName;

/**
 * Every pinflow service makes (or checks) all of pinflow's topics at start-up, whichever starts
 * first: seeing and creating them is not reading or writing them. A consumer parks what it cannot
 * process on the dead-letter topic.
 */
const SERVICE: KafkaGrant[] = [
  { resource: 'topic', name: 'pinflow.', prefix: true, operations: ['DESCRIBE', 'CREATE'] },
  { resource: 'topic', name: DEAD_LETTER_TOPIC, operations: ['WRITE'] },
];

function worker(vendor: Vendor): KafkaGrant[] {
  return [
    ...SERVICE,
    { resource: 'topic', name: commandTopic(vendor), operations: ['READ'] },
    { resource: 'topic', name: EVENTS_TOPIC, operations: ['WRITE'] },
    { resource: 'group', name: `pinflow-worker-${vendor}`, prefix: true, operations: ['READ'] },
  ];
}

/**
 * A requester writes its own request topic only (so a record there was produced by it, which intake
 * checks against the request's signer), and reads its answers in groups named after it.
 */
function requester(name: KafkaRequesterName): KafkaGrant[] {
  return [
    { resource: 'topic', name: requestTopic(name), operations: ['WRITE'] },
    { resource: 'topic', name: KAFKA_REQUESTERS[name], operations: ['READ'] },
    { resource: 'group', name, prefix: true, operations: ['READ'] },
  ];
}

/**
 * Who may do what, and nothing else (the broker denies what no rule allows): only intake writes
 * commands, each worker reads its own vendor's commands only and writes outcome events, audit only
 * reads events. intake writes events too: the refusals of requests that came in on its Kafka door,
 * whose request topics it reads and whose reply topics (outside pinflow.*) it creates and writes.
 * What a vendor needs beyond that (its own event stream) comes with its platform part.
 */
export const KAFKA_GRANTS: Partial<Record<KafkaPrincipal, KafkaGrant[]>> = {
  intake: [
    ...SERVICE,
    ...VENDORS.map((vendor): KafkaGrant => ({ resource: 'topic', name: commandTopic(vendor), operations: ['WRITE'] })),
    { resource: 'topic', name: EVENTS_TOPIC, operations: ['READ', 'WRITE'] },
    ...REQUESTER_NAMES.flatMap((name): KafkaGrant[] => [
      { resource: 'topic', name: requestTopic(name), operations: ['READ'] },
      { resource: 'topic', name: KAFKA_REQUESTERS[name], operations: ['CREATE', 'WRITE'] },
    ]),
    { resource: 'group', name: 'pinflow-intake', prefix: true, operations: ['READ'] },
  ],
  audit: [...SERVICE, { resource: 'topic', name: EVENTS_TOPIC, operations: ['READ'] }, { resource: 'group', name: 'pinflow-audit', prefix: true, operations: ['READ'] }],
  ...Object.fromEntries(REQUESTER_NAMES.map((name) => [name, requester(name)])),
  ...Object.fromEntries(
    VENDOR_PLATFORMS.flatMap(({ contract: { name: vendor }, kafkaGrants }) => [
      [`worker-${vendor}`, [...worker(vendor), ...(kafkaGrants?.worker ?? [])]],
      ...(kafkaGrants?.sandbox ? [[`sandbox-${vendor}`, kafkaGrants.sandbox]] : []),
    ]),
  ),
};

/** The apps that talk to Kafka, and the requesters: each gets a user of its own name. */
export const KAFKA_PRINCIPALS = Object.keys(KAFKA_GRANTS) as KafkaPrincipal[];
/** The principals pinflow runs itself; the rest are the upstream requesters of the Kafka door. */
export const APP_PRINCIPALS = KAFKA_PRINCIPALS.filter((principal): principal is AppName => !Object.hasOwn(KAFKA_REQUESTERS, principal));

export interface KafkaCredential {
  username: string;
  password: string;
}

/** How to reach a broker (or cluster) that serves SASL_SSL only, as each principal. */
export interface KafkaSecurity {
  /** The throwaway CA the brokers' certificate chains to (PEM). */
  caFile: string;
  credentials: Record<KafkaPrincipal | typeof KAFKA_ADMIN_PRINCIPAL, KafkaCredential>;
  /** kafkajs options for a client as `principal` (none: TLS without SASL, which the broker refuses). */
  clientConfig(principal?: KafkaPrincipal | typeof KAFKA_ADMIN_PRINCIPAL): KafkaConfig;
  /** The KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_* and KAFKA_SASL_* settings of a client as `principal`. */
  settingsOf(principal: KafkaPrincipal | typeof KAFKA_ADMIN_PRINCIPAL): Record<string, string>;
  /** Each app's settings, as `StackOptions.env` takes them. */
  appEnv(): Partial<Record<AppName, Record<string, string>>>;
}

export type SecuredLocalKafka = LocalKafka & KafkaSecurity;
export type SecuredLocalKafkaCluster = LocalKafkaCluster & KafkaSecurity;

/**
 * A local broker that serves SASL_SSL only (SCRAM-SHA-512, its certificate from a CA made for this
 * start), with a user for every app that talks to Kafka, fresh passwords, and KAFKA_GRANTS as its ACLs.
 */
export function startSecuredLocalKafka(options: { port: number; controllerPort: number; stateDir: string }): Promise<SecuredLocalKafka> {
  return secured((users) => startLocalKafka({ ...options, users }));
}

/** The same for a cluster of `nodes`: every node serves SASL_SSL only, and they replicate to each other as the super user. */
export function startSecuredLocalKafkaCluster(options: { nodes?: number; stateDir?: string } = {}): Promise<SecuredLocalKafkaCluster> {
  return secured((users) => startLocalKafkaCluster({ ...options, users }));
}

/** Starts Kafka with a fresh password for every principal (the super user first), then creates KAFKA_GRANTS' ACLs as the super user. */
async function secured<T extends { brokers: string; stateDir: string; stop(): Promise<void> }>(start: (users: Record<string, string>) => Promise<T>): Promise<T & KafkaSecurity> {
  const credentials = Object.fromEntries(
    [KAFKA_ADMIN_PRINCIPAL, ...KAFKA_PRINCIPALS].map((username) => [username, { username, password: randomBytes(24).toString('base64url') }]),
  ) as KafkaSecurity['credentials'];
  const kafka = await start(Object.fromEntries(Object.values(credentials).map(({ username, password }) => [username, password])));
  const caFile = path.join(kafka.stateDir, 'tls', 'ca.pem');
  const ca = [readFileSync(caFile, 'utf8')];
  const clientConfig = (principal?: KafkaPrincipal | typeof KAFKA_ADMIN_PRINCIPAL): KafkaConfig => ({
    clientId: principal ?? 'anonymous',
    brokers: kafka.brokers.split(','),
    ssl: { ca },
    ...(principal ? { sasl: { mechanism: 'scram-sha-512', ...credentials[principal] } } : {}),
    logLevel: logLevel.NOTHING,
  });
  try {
    await createAcls(new Kafka(clientConfig(KAFKA_ADMIN_PRINCIPAL)));
  } catch (error) {
    await kafka.stop();
    throw error;
  }
  const settingsOf = (principal: KafkaPrincipal | typeof KAFKA_ADMIN_PRINCIPAL) => ({
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SSL_CA_FILE: caFile,
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: credentials[principal].username,
    KAFKA_SASL_PASSWORD: credentials[principal].password,
  });
  return Object.assign(kafka, {
    caFile,
    credentials,
    clientConfig,
    settingsOf,
    appEnv: () => Object.fromEntries(APP_PRINCIPALS.map((principal) => [principal, settingsOf(principal)])),
  });
}

async function createAcls(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: Object.entries(KAFKA_GRANTS).flatMap(([principal, grants]) =>
        grants.flatMap((grant) =>
          grant.operations.map((operation) => ({
            resourceType: grant.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
            resourceName: grant.name,
            resourcePatternType: grant.prefix ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
            principal: `User:${principal}`,
            host: '*',
            operation: AclOperationTypes[operation],
            permissionType: AclPermissionTypes.ALLOW,
          })),
        ),
      ),
    });
  } finally {
    await admin.disconnect();
  }
}
