import { APP_PRINCIPALS, KAFKA_ADMIN_PRINCIPAL, KAFKA_PRINCIPALS } from '@pinflow/platform';
import { repoRoot } from '@pinflow/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { parseCardOwners } from '../../apps/intake/src/card-owners';
import { ACL_SCRIPT_FILE, aclScript, COMPOSE_KAFKA_CA_FILE, writeComposeKafkaCredentials } from './compose-kafka';

/**
 * docker-compose.yml as Compose reads it (anchors and merge keys resolved), checked against what the
 * README promises of its Kafka (the rest: k8s-manifests.spec.ts): SASL_SSL only, each service signing
 * in as its own principal with credentials no other service sees, the ACLs exactly KAFKA_GRANTS.
 * Docker need not run for this.
 */
interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
};
const services = Object.entries(compose.services);
const kafkaClients = services.filter(([, service]) => service.environment?.KAFKA_BROKERS !== undefined).map(([name]) => name);
const servicesWith = (has: (service: ComposeService) => boolean) =>
  services
    .filter(([, service]) => has(service))
    .map(([name]) => name)
    .sort();

describe('docker-compose.yml: Kafka as a trust boundary', () => {
  it('has every service principal of KAFKA_GRANTS as a Kafka client, and no Kafka client without one (requesters are upstream systems)', () => {
    expect([...kafkaClients].sort()).toEqual([...APP_PRINCIPALS].sort());
  });

  it.each(kafkaClients)('lets %s speak SASL_SSL with SCRAM-SHA-512, trusting the CA from the kafka-ca volume only', (name) => {
    const service = compose.services[name];
    expect(service.environment).toMatchObject({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SSL_CA_FILE: COMPOSE_KAFKA_CA_FILE });
    expect(service.volumes).toEqual([`kafka-ca:${path.dirname(COMPOSE_KAFKA_CA_FILE)}:ro`]);
    expect(service.depends_on?.['kafka-acls']).toEqual({ condition: 'service_completed_successfully' });
  });

  it.each(kafkaClients)('gives %s its own credentials, and no password in the file itself', (name) => {
    const service = compose.services[name];
    expect(service.env_file).toEqual([`.pinflow/compose-kafka/${name}.env`]);
    expect(service.environment).not.toHaveProperty('KAFKA_SASL_USERNAME');
    expect(service.environment).not.toHaveProperty('KAFKA_SASL_PASSWORD');
  });

  it("mounts every principal's password into the broker only, the super user's into the broker and the ACL job only", () => {
    expect(compose.secrets['kafka-users'].file).toBe('./.pinflow/compose-kafka/users');
    expect(servicesWith((service) => service.secrets?.includes('kafka-users') ?? false)).toEqual(['kafka']);
    expect(servicesWith((service) => service.secrets?.includes('kafka-admin-client') ?? false)).toEqual(['kafka', 'kafka-acls']);
    expect(servicesWith((service) => (service.env_file ?? []).length > 0)).toEqual([...kafkaClients].sort());
  });

  it("keeps the broker's key store from everyone but the broker and the job that makes it", () => {
    expect(servicesWith((service) => (service.volumes ?? []).some((volume) => volume.startsWith('kafka-tls:')))).toEqual(['kafka', 'kafka-tls']);
  });

  it('publishes no port of the broker or its jobs (the other ports: k8s-manifests.spec.ts)', () => {
    expect(servicesWith((service) => service.ports !== undefined && (service.image ?? '').startsWith('apache/kafka'))).toEqual([]);
  });

  it('grants the ACLs of KAFKA_GRANTS: deploy/compose/kafka-acls.sh is up to date (else `npm run compose:kafka -- --acl-script`)', () => {
    expect(readFileSync(ACL_SCRIPT_FILE, 'utf8')).toBe(aclScript());
  });
});

describe('docker-compose.yml: card ownership of writes (the production image enforces it)', () => {
  const cards = compose.services.cards;
  const [mountedFile, containerFile] = (cards.volumes ?? [])[0]?.split(':') ?? [];

  it("imports the walkthrough's cards with `cards import`, on intake's database, after the migrations and before intake starts", () => {
    expect(cards.command).toEqual(['node', 'dist/tools/cards.js', 'import', containerFile]);
    expect(cards.environment?.DATABASE_URL).toBe(compose.services.intake.environment?.DATABASE_URL);
    expect(cards.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(compose.services.intake.depends_on).toMatchObject({ cards: { condition: 'service_completed_successfully' }, migrate: { condition: 'service_completed_successfully' }, 'kafka-acls': { condition: 'service_completed_successfully' } });
  });

  it("owns the README's Pismo cards card-42 and card-43 by the tenant Thales D1's ISSUER0002 pushes for, so one token tenant drives the whole walkthrough", () => {
    const owners = parseCardOwners(readFileSync(path.join(repoRoot, mountedFile), 'utf8'));
    const issuers: Record<string, { vendor: string; tenant: string }> = JSON.parse(compose.services.intake.environment!.D1_INBOUND_ISSUERS);
    const { tenant, vendor } = issuers.ISSUER0002;

    expect(owners).toEqual(expect.arrayContaining([{ tenant, vendor, cardId: 'card-42' }, { tenant, vendor, cardId: 'card-43' }]));
    expect(tenant).toBe('issuer-0002');
  });
});

describe('npm run compose:kafka', () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'pinflow-compose-kafka-'));
  const dir = path.join(parent, 'compose-kafka');
  const written = writeComposeKafkaCredentials(dir);
  afterAll(() => rmSync(parent, { recursive: true, force: true }));
  const envOf = (principal: string) =>
    Object.fromEntries(
      readFileSync(path.join(dir, `${principal}.env`), 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  it("writes each principal's env file with its own name and a password of its own, readable by the owner only", () => {
    const passwords = KAFKA_PRINCIPALS.map((principal) => {
      const env = envOf(principal);
      expect(Object.keys(env)).toEqual(['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']);
      expect(env.KAFKA_SASL_USERNAME).toBe(principal);
      return env.KAFKA_SASL_PASSWORD;
    });
    expect(new Set(passwords).size).toBe(KAFKA_PRINCIPALS.length);
    expect(passwords.every((password) => password.length >= 32)).toBe(true);
    for (const file of readdirSync(dir)) expect((statSync(path.join(dir, file)).mode & 0o777).toString(8)).toBe('600');
  });

  it("gives the broker every principal's password, its super user first, and the super user's to the admin client", () => {
    const users = readFileSync(path.join(dir, 'users'), 'utf8').trim().split(',');
    expect(users.map((user) => user.split(':')[0])).toEqual([KAFKA_ADMIN_PRINCIPAL, ...KAFKA_PRINCIPALS]);
    for (const principal of KAFKA_PRINCIPALS) expect(users).toContain(`${principal}:${envOf(principal).KAFKA_SASL_PASSWORD}`);
    const adminPassword = users[0].split(':')[1];
    expect(readFileSync(path.join(dir, 'admin-client.properties'), 'utf8')).toContain(`username="${KAFKA_ADMIN_PRINCIPAL}" password="${adminPassword}"`);
  });

  it('never replaces credentials the broker may have been formatted with', () => {
    expect(written).toHaveLength(KAFKA_PRINCIPALS.length + 2);
    const before = readFileSync(path.join(dir, 'users'), 'utf8');
    expect(writeComposeKafkaCredentials(dir)).toEqual([]);
    expect(readFileSync(path.join(dir, 'users'), 'utf8')).toBe(before);
  });

  it('gives a principal that has none yet (a new vendor\'s worker) its credentials, and leaves the others alone', () => {
    const [newcomer] = KAFKA_PRINCIPALS;
    const users = readFileSync(path.join(dir, 'users'), 'utf8').trim().split(',');
    const others = users.filter((user) => !user.startsWith(`${newcomer}:`));
    writeFileSync(path.join(dir, 'users'), `${others.join(',')}\n`);

    expect(writeComposeKafkaCredentials(dir)).toEqual([path.join(dir, `${newcomer}.env`), path.join(dir, 'users')]);

    const after = readFileSync(path.join(dir, 'users'), 'utf8').trim().split(',');
    expect(after).toEqual([...others, `${newcomer}:${envOf(newcomer).KAFKA_SASL_PASSWORD}`]);
    expect(users).not.toContain(after.at(-1));
  });
});
