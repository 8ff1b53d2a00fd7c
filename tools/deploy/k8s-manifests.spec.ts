import { commandTopic, VENDORS } from '@pinflow/contracts';
import { VENDOR_PLATFORMS } from '@pinflow/platform';
import { repoRoot } from '@pinflow/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The deployment as Kubernetes would receive it: every kustomization under deploy/k8s rendered by
 * kustomize (`kubectl kustomize`, offline) and checked against the API's schemas, then the rules
 * pinflow's deployment promises (README, deploy/k8s/README.md) checked on what was rendered.
 */
const K8S_DIR = path.join(repoRoot, 'deploy/k8s');
/** Vendors whose workers open secrets intake sealed: each holds its own command key ring, intake the public halves. */
const COMMAND_KEY_VENDORS = VENDOR_PLATFORMS.filter((platform) => platform.workerReadsPinKeys).map((platform) => platform.contract.name);
const SERVICES = ['intake', 'audit', ...VENDORS.map((vendor) => `worker-${vendor}`)];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

function kustomizationRoots(dir = K8S_DIR): string[] {
  const here = path.join(dir, 'kustomization.yaml');
  const isRoot = existsSync(here) && parse(readFileSync(here, 'utf8')).kind !== 'Component';
  const below = readdirSync(dir)
    .map((entry) => path.join(dir, entry))
    .filter((entry) => statSync(entry).isDirectory())
    .flatMap((entry) => kustomizationRoots(entry));
  return isRoot ? [dir, ...below] : below;
}

function render(root: string): string {
  try {
    return execFileSync('kubectl', ['kustomize', root], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(`kubectl kustomize ${path.relative(repoRoot, root)} failed (kubectl is part of every machine image of this project): ${(error as Error).message}`);
  }
}

const roots = kustomizationRoots();
const rendered = new Map(roots.map((root) => [path.relative(K8S_DIR, root), render(root)]));
const objectsOf = (root: string): K8sObject[] => parseAllDocuments(rendered.get(root)!).map((document) => document.toJS());
const overlays = [...rendered.keys()].filter((root) => root.startsWith('overlays/'));
const environments = overlays.filter((root) => !root.endsWith('/migrate'));

function podTemplates(objects: K8sObject[]): Array<{ owner: string; labels: Record<string, string>; spec: any }> {
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'Job')
    .map((object) => ({ owner: object.metadata.name, labels: object.spec.template.metadata.labels, spec: object.spec.template.spec }));
}

function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values: string[] }> }, labels: Record<string, string>): boolean {
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const expressionsMatch = (selector.matchExpressions ?? []).every(({ key, operator, values }) => {
    if (operator !== 'In' && operator !== 'NotIn') throw new Error(`the test understands only In and NotIn selectors, not ${operator}`);
    return values.includes(labels[key]) === (operator === 'In');
  });
  return labelsMatch && expressionsMatch;
}

/** The ports a pod may open connections to (`egress`) or accept them on (`ingress`), after every NetworkPolicy. */
function allowedPorts(objects: K8sObject[], labels: Record<string, string>, direction: 'ingress' | 'egress'): Array<string | number> {
  return objects
    .filter((object) => object.kind === 'NetworkPolicy' && selects(object.spec.podSelector, labels))
    .flatMap((policy) => (policy.spec[direction] ?? []) as Array<{ ports?: Array<{ port: string | number }> }>)
    .flatMap((rule) => {
      if (!rule.ports) throw new Error(`a ${direction} rule without ports allows every port`);
      return rule.ports.map(({ port }) => port);
    })
    .sort();
}

describe('Kubernetes manifests', () => {
  it('has a dev and a prod overlay, each with its migration', () => {
    expect(overlays.sort()).toEqual(['overlays/dev', 'overlays/dev/migrate', 'overlays/prod', 'overlays/prod/migrate']);
  });

  it('renders every kustomization to objects that match the Kubernetes and KEDA schemas, without fields they do not know', () => {
    const validation = spawnSync(process.execPath, [path.join(repoRoot, 'tools/deploy/validate-k8s-schemas.mjs'), ...roots], { encoding: 'utf8' });

    expect(validation.stdout + validation.stderr).toBe('');
    expect(validation.status).toBe(0);
  });

  describe.each(environments)('%s', (environment) => {
    const objects = [...objectsOf(environment), ...objectsOf(`${environment}/migrate`)];
    const deployments = objects.filter((object) => object.kind === 'Deployment');
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('pinflow'))!;

    it('runs every service', () => {
      expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual([...SERVICES].sort());
    });

    it('runs every container as a non-root user on a read-only file system, without capabilities, privilege escalation or a service account token', () => {
      for (const { spec } of podTemplates(objects)) {
        expect(spec.automountServiceAccountToken).toBe(false);
        expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        for (const container of spec.containers) {
          expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        }
      }
    });

    it('runs one pinned image, never `latest`', () => {
      const images = new Set(podTemplates(objects).flatMap(({ spec }) => spec.containers.map((container: { image: string }) => container.image)));

      expect(images.size).toBe(1);
      for (const image of images) expect(image).toMatch(/^[^:@]+(:(?!latest$)[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
    });

    const keySecrets = (spec: any): string[] =>
      ((spec.volumes ?? []) as Array<{ secret?: { secretName: string } }>)
        .map((volume) => volume.secret?.secretName ?? '')
        .filter((name) => name === 'pinflow-pin-keys' || name.startsWith('pinflow-command-keys-'));

    it("mounts the caller-facing PIN keys into intake only, and each vendor's command keys into its own worker only", () => {
      const mounted = Object.fromEntries(podTemplates(objects).map(({ owner, spec }) => [owner, keySecrets(spec)]));

      expect(Object.fromEntries(Object.entries(mounted).filter(([, secrets]) => secrets.length > 0))).toEqual({
        intake: ['pinflow-pin-keys'],
        ...Object.fromEntries(COMMAND_KEY_VENDORS.map((vendor) => [`worker-${vendor}`, [`pinflow-command-keys-${vendor}`]])),
      });
    });

    it("gives intake the public half of every such vendor's command keys, from files it mounts", () => {
      const intake = podTemplates(objects).find(({ owner }) => owner === 'intake')!;
      const [container] = intake.spec.containers;
      const files: Record<string, string> = JSON.parse(container.env.find((variable: { name: string }) => variable.name === 'COMMAND_KEYS_FILES').value);
      const mountOf = (file: string) => container.volumeMounts.find((mount: { mountPath: string }) => file.startsWith(`${mount.mountPath}/`));

      expect(Object.keys(files).sort()).toEqual([...COMMAND_KEY_VENDORS].sort());
      for (const file of Object.values(files)) {
        const volume = intake.spec.volumes.find((candidate: { name: string }) => candidate.name === mountOf(file)?.name);
        expect(volume).toEqual({ name: 'command-public-keys', configMap: { name: 'pinflow-command-public-keys' } });
      }
    });

    it("gives intake alone D1's inbound credentials and encryption key, from Secrets, for the issuers its configuration names", () => {
      const secretsOf = (spec: any): string[] => [
        ...((spec.volumes ?? []) as Array<{ secret?: { secretName: string } }>).map((volume) => volume.secret?.secretName ?? ''),
        ...spec.containers.flatMap((container: any) => (container.env ?? []).map((variable: any) => variable.valueFrom?.secretKeyRef?.name ?? '')),
      ].filter((name) => name.startsWith('pinflow-d1-inbound'));
      const holders = Object.fromEntries(podTemplates(objects).map(({ owner, spec }) => [owner, [...new Set(secretsOf(spec))].sort()]).filter(([, names]) => names.length > 0));
      expect(holders).toEqual({ intake: ['pinflow-d1-inbound', 'pinflow-d1-inbound-encryption-key'] });

      const intake = podTemplates(objects).find(({ owner }) => owner === 'intake')!;
      const [container] = intake.spec.containers;
      const env = Object.fromEntries(container.env.map((variable: any) => [variable.name, variable]));
      expect(env.D1_INBOUND_CLIENT_ID.valueFrom.secretKeyRef).toMatchObject({ name: 'pinflow-d1-inbound', key: 'client-id' });
      expect(env.D1_INBOUND_CLIENT_SECRET.valueFrom.secretKeyRef).toMatchObject({ name: 'pinflow-d1-inbound', key: 'client-secret' });
      const keyFile: string = env.D1_INBOUND_ENCRYPTION_KEY_FILE.value;
      const mount = container.volumeMounts.find((candidate: { mountPath: string }) => keyFile.startsWith(`${candidate.mountPath}/`));
      expect(intake.spec.volumes.find((volume: { name: string }) => volume.name === mount?.name)?.secret?.secretName).toBe('pinflow-d1-inbound-encryption-key');
      expect(Object.keys(JSON.parse(configMap.data!.D1_INBOUND_ISSUERS)).length).toBeGreaterThan(0);
    });

    it('signs every service in to Kafka over SASL_SSL as its own principal, with a password from a Secret of its own', () => {
      expect(configMap.data).toMatchObject({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SSL_CA_FILE: expect.any(String) });
      for (const deployment of deployments) {
        const name = deployment.metadata.name;
        const { containers, volumes } = deployment.spec.template.spec;
        expect(containers[0].env).toEqual(
          expect.arrayContaining([
            { name: 'KAFKA_SASL_USERNAME', value: name },
            { name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: `pinflow-kafka-${name}`, key: 'password' } } },
          ]),
        );
        const caVolume = volumes.find((volume: { configMap?: { name: string } }) => volume.configMap?.name === 'pinflow-kafka-ca');
        const caMount = containers[0].volumeMounts.find((mount: { name: string }) => mount.name === caVolume?.name);
        expect(configMap.data!.KAFKA_SSL_CA_FILE.startsWith(`${caMount?.mountPath}/`)).toBe(true);
      }
      const scalers = objects.filter((object) => object.kind === 'ScaledObject').flatMap((object) => object.spec.triggers);
      expect(scalers.every((trigger: { authenticationRef?: { name: string } }) => trigger.authenticationRef?.name === 'pinflow-kafka-keda')).toBe(true);
      expect(objects.filter((object) => object.kind === 'TriggerAuthentication').map((object) => object.metadata.name)).toEqual(['pinflow-kafka-keda']);
    });

    it("mounts each signer's message key into it alone, and everyone's public message keys into every consumer of commands or events", () => {
      const fileIn = (deployment: K8sObject, file: string, volume: object) => {
        const { containers, volumes } = deployment.spec.template.spec;
        const mount = containers[0].volumeMounts.find((candidate: { mountPath: string }) => file.startsWith(`${candidate.mountPath}/`));
        return volumes.find((candidate: { name: string }) => candidate.name === mount?.name) ?? volume;
      };
      const signingKeys = Object.fromEntries(
        deployments.flatMap((deployment) => {
          const file = deployment.spec.template.spec.containers[0].env.find((variable: { name: string }) => variable.name === 'MESSAGE_SIGNING_KEY_FILE')?.value;
          return file ? [[deployment.metadata.name, fileIn(deployment, file, {}).secret?.secretName]] : [];
        }),
      );
      expect(signingKeys).toEqual(Object.fromEntries(SERVICES.filter((service) => service !== 'audit').map((service) => [service, `pinflow-message-key-${service}`])));
      for (const deployment of deployments) {
        expect(fileIn(deployment, configMap.data!.MESSAGE_SIGNERS_FILE, {})).toMatchObject({ configMap: { name: 'pinflow-message-signers' } });
      }
    });

    it("reads intake's Kafka-door requesters from a file of a ConfigMap whose name stays the same, mounted as a directory, so that a changed list reaches the running pods without a rollout", () => {
      const intake = podTemplates(objects).find(({ owner }) => owner === 'intake')!;
      const [container] = intake.spec.containers;
      const env = Object.fromEntries(container.env.map((variable: any) => [variable.name, variable]));
      const file: string = env.INTAKE_KAFKA_REQUESTERS_FILE.value;
      const mount = container.volumeMounts.find((candidate: { mountPath: string }) => file.startsWith(`${candidate.mountPath}/`));
      const volume = intake.spec.volumes.find((candidate: { name: string }) => candidate.name === mount?.name);
      const requesters = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === volume?.configMap?.name);

      expect(env.INTAKE_KAFKA_REQUESTERS).toBeUndefined();
      expect(configMap.data!.INTAKE_KAFKA_REQUESTERS).toBeUndefined();
      expect(mount.subPath).toBeUndefined();
      expect(requesters?.metadata.name).toBe('pinflow-kafka-requesters');
      expect(JSON.parse(requesters!.data![path.relative(mount.mountPath, file)])).toEqual(expect.any(Object));
    });

    it('lets a PodDisruptionBudget take down at most one pod of each service at a time', () => {
      for (const deployment of deployments) {
        const budgets = objects.filter((object) => object.kind === 'PodDisruptionBudget' && selects(object.spec.selector, deployment.spec.template.metadata.labels));
        expect(budgets.map((budget) => budget.spec)).toEqual([expect.objectContaining({ maxUnavailable: 1 })]);
      }
    });

    it.each(VENDORS)('scales worker-%s on its consumer group lag, up to no more pods than its command topic has partitions', (vendor) => {
      const worker = deployments.find((deployment) => deployment.metadata.name === `worker-${vendor}`)!;
      const scaler = objects.find((object) => object.kind === 'ScaledObject' && object.spec.scaleTargetRef.name === `worker-${vendor}`)!;
      const container = worker.spec.template.spec.containers[0];
      const group = container.env.find((variable: { name: string }) => variable.name === 'WORKER_COMMAND_GROUP')?.value ?? `pinflow-worker-${vendor}`;
      const partitions = Number(configMap.data!.KAFKA_COMMAND_PARTITIONS ?? 6);

      expect(worker.spec.replicas).toBeUndefined();
      expect(scaler.spec.triggers).toContainEqual({
        type: 'kafka',
        authenticationRef: { name: 'pinflow-kafka-keda' },
        metadata: expect.objectContaining({ bootstrapServersFromEnv: 'KAFKA_BROKERS', consumerGroup: group, topic: commandTopic(vendor) }),
      });
      expect(configMap.data!.KAFKA_BROKERS).toBeDefined();
      expect(container.envFrom).toContainEqual({ configMapRef: { name: configMap.metadata.name } });
      expect(scaler.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(scaler.spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
    });

    it('scales intake on CPU', () => {
      const intake = deployments.find((deployment) => deployment.metadata.name === 'intake')!;
      const autoscaler = objects.find((object) => object.kind === 'HorizontalPodAutoscaler')!;

      expect(intake.spec.replicas).toBeUndefined();
      expect(autoscaler.apiVersion).toBe('autoscaling/v2');
      expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'intake' });
      expect(autoscaler.spec.metrics).toContainEqual({ type: 'Resource', resource: { name: 'cpu', target: expect.objectContaining({ type: 'Utilization' }) } });
    });

    it('lets Prometheus scrape /metrics on the HTTP port of every service, from the monitoring namespace only', () => {
      for (const deployment of deployments) {
        const { metadata, spec } = deployment.spec.template;
        const port = spec.containers[0].ports.find((candidate: { name: string }) => candidate.name === 'http').containerPort;
        expect(metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
        const scrapes = objects.filter(
          (object) => object.kind === 'NetworkPolicy' && selects(object.spec.podSelector, metadata.labels) && (object.spec.ingress ?? []).some((rule: { from?: unknown[] }) => rule.from),
        );
        expect(scrapes.map((policy) => policy.spec.ingress)).toEqual([
          [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
        ]);
      }
    });

    it("lets the Prometheus Operator scrape /metrics of every service: a ServiceMonitor picks a Service of each on its pods' http port", () => {
      const monitors = objects.filter((object) => object.kind === 'ServiceMonitor');
      expect(monitors.map((monitor) => monitor.spec.endpoints)).toEqual([[expect.objectContaining({ port: 'http', path: '/metrics' })]]);
      const monitored = objects.filter((object) => object.kind === 'Service' && selects(monitors[0].spec.selector, object.metadata.labels ?? {}));
      for (const deployment of deployments) {
        const services = monitored.filter((service) => selects({ matchLabels: service.spec.selector }, deployment.spec.template.metadata.labels));
        expect(services.map((service) => service.spec.ports.find((port: { name: string }) => port.name === 'http')?.targetPort)).toEqual(['http']);
      }
    });

    it('denies all traffic but the flows of the README: callers to intake and audit; Prometheus to every service; services to Kafka, PostgreSQL and HTTPS; migration to PostgreSQL', () => {
      const defaultDeny = objects.find((object) => object.kind === 'NetworkPolicy' && Object.keys(object.spec.podSelector).length === 0 && !object.spec.ingress && !object.spec.egress);
      expect(defaultDeny?.spec.policyTypes).toEqual(['Ingress', 'Egress']);

      const DNS = [53, 53];
      const flows = Object.fromEntries(
        podTemplates(objects).map(({ owner, labels }) => [owner, { ingress: allowedPorts(objects, labels, 'ingress'), egress: allowedPorts(objects, labels, 'egress') }]),
      );
      // Prometheus scrapes every service on its HTTP port (prometheus-to-services); callers reach intake and audit there too.
      const api = { ingress: ['http', 'http'], egress: [...DNS, 443, 5432, 9092].sort() };
      const worker = { ingress: ['http'], egress: [...DNS, 443, 5432, 9092].sort() };
      expect(flows).toEqual({
        intake: api,
        audit: api,
        ...Object.fromEntries(VENDORS.map((vendor) => [`worker-${vendor}`, worker])),
        'pinflow-migrate': { ingress: [], egress: [...DNS, 5432].sort() },
      });
    });
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
  const services: Record<string, { ports?: string[]; secrets?: string[]; environment?: Record<string, string> }> = compose.services;
  const sandboxes = Object.keys(services).filter((name) => name.startsWith('sandbox-'));

  it('publishes ports on the loopback interface only', () => {
    const published = Object.values(services).flatMap((service) => service.ports ?? []);

    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it("mounts the caller-facing PIN keys into intake only, and each vendor's command keys into its own worker only", () => {
    const mounted = Object.entries(services).flatMap(([name, service]) => (service.secrets ?? []).filter((secret) => secret === 'pin-keys' || secret.startsWith('command-keys-')).map((secret) => [name, secret]));

    expect(mounted.sort()).toEqual([['intake', 'pin-keys'], ...COMMAND_KEY_VENDORS.map((vendor) => [`worker-${vendor}`, `command-keys-${vendor}`])].sort());
  });

  it("gives intake alone D1's inbound encryption key, and the issuers and credentials D1 calls with", () => {
    const holders = Object.entries(services).filter(([, service]) => (service.secrets ?? []).includes('d1-inbound-encryption-key')).map(([name]) => name);

    expect(holders).toEqual(['intake']);
    expect(services.intake.environment).toMatchObject({ D1_INBOUND_ENCRYPTION_KEY_FILE: '/run/secrets/d1-inbound-encryption-key', D1_INBOUND_CLIENT_ID: expect.any(String), D1_INBOUND_CLIENT_SECRET: expect.any(String) });
    expect(Object.keys(JSON.parse(services.intake.environment!.D1_INBOUND_ISSUERS)).length).toBeGreaterThan(0);
  });

  it("mounts each signer's message key into it alone, and the public message keys wherever commands or events are consumed", () => {
    const signingKeys = Object.entries(services).flatMap(([name, service]) => (service.secrets ?? []).filter((secret) => secret.startsWith('message-key-')).map((secret) => [name, secret]));
    const pinflowServices = Object.keys(services).filter((name) => name === 'intake' || name === 'audit' || name.startsWith('worker-'));

    expect(signingKeys.sort()).toEqual(pinflowServices.filter((name) => name !== 'audit').map((name) => [name, `message-key-${name}`]).sort());
    for (const name of pinflowServices) {
      expect(services[name].secrets).toContain('message-signers');
      expect(services[name].environment).toHaveProperty('MESSAGE_SIGNERS_FILE', '/run/secrets/message-signers');
    }
  });

  it('gives the sandboxes no secret and no database, and their test hooks only when SANDBOX_TEST_HOOKS=true', () => {
    expect(sandboxes).toHaveLength(VENDORS.length);
    for (const name of sandboxes) {
      expect(services[name].secrets).toBeUndefined();
      expect(services[name].environment).not.toHaveProperty('DATABASE_URL');
      expect(services[name].environment).toHaveProperty('SANDBOX_TEST_HOOKS', '${SANDBOX_TEST_HOOKS:-false}');
    }
  });
});
