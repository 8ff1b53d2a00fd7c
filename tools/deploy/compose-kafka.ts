// `npm run compose:kafka`: the Kafka credentials docker-compose.yml reads, one principal per service,
// in .pinflow/compose-kafka/: created once, and for a new principal later (the broker keeps the SCRAM
// users it was formatted with, so a password is never replaced behind its back). `-- --acl-script` writes deploy/compose/kafka-acls.sh from
// KAFKA_GRANTS instead, which the compose spec checks is up to date.
import { KAFKA_ADMIN_PRINCIPAL, KAFKA_GRANTS, KAFKA_PRINCIPALS, KafkaGrant } from '@pinflow/platform';
import { repoRoot } from '@pinflow/testing';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const COMPOSE_KAFKA_DIR = path.join(repoRoot, '.pinflow/compose-kafka');
export const ACL_SCRIPT_FILE = path.join(repoRoot, 'deploy/compose/kafka-acls.sh');
/** Where the compose services find the CA the broker's certificate chains to (the kafka-ca volume). */
export const COMPOSE_KAFKA_CA_FILE = '/etc/pinflow/kafka-ca/ca.pem';

/** kafka-acls.sh's names of KafkaGrant's operations. */
const OPERATIONS: Record<KafkaGrant['operations'][number], string> = { READ: 'Read', WRITE: 'Write', CREATE: 'Create', DESCRIBE: 'Describe' };

/** The shell line that grants `grant` to `principal`, as the compose ACL job runs it. */
function aclLine(principal: string, grant: KafkaGrant): string {
  const pattern = grant.prefix ? ' --resource-pattern-type prefixed' : '';
  const operations = grant.operations.map((operation) => ` --operation ${OPERATIONS[operation]}`).join('');
  return `acl --allow-principal User:${principal} --${grant.resource} ${grant.name}${pattern}${operations}`;
}

/** deploy/compose/kafka-acls.sh: every grant of `grants`, added as the super user (adding an ACL twice is harmless). */
export function aclScript(grants: Partial<Record<string, KafkaGrant[]>> = KAFKA_GRANTS): string {
  return [
    '#!/bin/bash',
    '# Generated from KAFKA_GRANTS (tools/platform/kafka-secured.ts) by `npm run compose:kafka -- --acl-script`: edit',
    '# the grants, not this file. docker-compose.yml runs it once the broker is healthy, as the super user.',
    'set -euo pipefail',
    'acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:9092 --command-config /run/secrets/kafka-admin-client --add "$@" >/dev/null; }',
    ...Object.entries(grants).flatMap(([principal, list]) => (list ?? []).map((grant) => aclLine(principal, grant))),
    'echo "ACLs granted"',
    '',
  ].join('\n');
}

const password = () => randomBytes(24).toString('base64url');

/**
 * Creates what is missing in `dir`: `users` (name:password,..., the super user first) for the broker
 * only, `admin-client.properties` for the ACL job and the broker's health check, and `<service>.env`
 * (KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD) for each service alone. A principal that has a
 * password keeps it (the broker was formatted with it); a new one gets one. Returns the files it wrote.
 */
export function writeComposeKafkaCredentials(dir = COMPOSE_KAFKA_DIR): string[] {
  const usersFile = path.join(dir, 'users');
  const known = new Map(
    existsSync(usersFile)
      ? readFileSync(usersFile, 'utf8')
          .trim()
          .split(',')
          .map((user) => [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)] as const)
      : [],
  );
  const missing = [KAFKA_ADMIN_PRINCIPAL, ...KAFKA_PRINCIPALS].filter((username) => !known.has(username));
  if (missing.length === 0) return [];
  for (const username of missing) known.set(username, password());
  const adminPassword = known.get(KAFKA_ADMIN_PRINCIPAL)!;
  const files: Record<string, string> = {
    ...(missing.includes(KAFKA_ADMIN_PRINCIPAL) && {
      'admin-client.properties': [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN_PRINCIPAL}" password="${adminPassword}";`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${COMPOSE_KAFKA_CA_FILE}`,
        '',
      ].join('\n'),
    }),
    ...Object.fromEntries(
      missing.filter((username) => username !== KAFKA_ADMIN_PRINCIPAL).map((username) => [`${username}.env`, `KAFKA_SASL_USERNAME=${username}\nKAFKA_SASL_PASSWORD=${known.get(username)}\n`]),
    ),
    // Last: a principal is in it only once its own file exists.
    users: `${[...known].map(([username, secret]) => `${username}:${secret}`).join(',')}\n`,
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  return Object.keys(files).map((name) => path.join(dir, name));
}

function main(): void {
  const { values } = parseArgs({ options: { 'acl-script': { type: 'boolean', default: false } } });
  if (values['acl-script']) {
    writeFileSync(ACL_SCRIPT_FILE, aclScript(), { mode: 0o755 });
    console.log(`wrote ${path.relative(repoRoot, ACL_SCRIPT_FILE)}`);
    return;
  }
  const written = writeComposeKafkaCredentials();
  console.log(written.length > 0 ? `wrote ${written.map((file) => path.relative(repoRoot, file)).join(', ')}` : `${path.relative(repoRoot, COMPOSE_KAFKA_DIR)} has the credentials already`);
}

if (require.main === module) main();
