import { EVENT_TYPES, REQUEST_SCHEMA_VERSION } from '@pinflow/contracts';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { repoRoot } from '@pinflow/testing';
import { AppName, CommandLine, KAFKA_REQUESTERS, KafkaRequester, PinChangeRequest, PinChangeScenarios, provisionTestInfrastructure, startStack, VENDOR_NAMES, VendorName } from '@pinflow/platform';
import { runBaseline } from './baseline';
import { CpuMeter, listeningPid } from './cpu';
import { kafkaDoor, PreparedMessage } from './kafka-door';
import { Door, httpDoor, LoadResult, percentile, PreparedRequest, runLoad } from './load';

/**
 * `npm run bench`: PIN changes through intake → Kafka → worker → vendor sandbox (→ the vendor's
 * events → worker) → events → audit, every service its own process, on a real broker and PostgreSQL.
 * Closed loop (--concurrency requests in flight) finds the most it does; open loop (--rate) offers a
 * fixed rate whatever the answers, so overload shows as refusals and latency. After an unmeasured
 * warm-up it measures one window, from the first measured request until the last of them is audited,
 * and prints throughput, refusals by reason, latencies, CPU ms per change per process and peak memory.
 * --door kafka sends the requests as signed messages on the bench requester's request topic instead of HTTP POSTs;
 * --secured runs the broker SASL_SSL only with the platform's ACLs, every service and the requester signing in as its own principal.
 * See README.md, "Benchmark", for the options.
 */
const commandLine: CommandLine = new CommandLine(
  `usage: npm run bench -- [--concurrency N | --rate R] [--duration S] [--warmup S] [--vendors ${VENDOR_NAMES.join(',')}] [--cards N] [--baseline]
       [--door http|kafka] [--secured] [--vendor-latency-ms N] [--max-inflight N] [--cold-connections] [--timeout-ms N] [--cpu-prof DIR] …
every option, its default and what the run prints: README.md, "Benchmark"`,
);
const values = commandLine.options({
  door: { type: 'string', default: 'http' },
  secured: { type: 'boolean', default: false },
  presigned: { type: 'string' },
  concurrency: { type: 'string', default: '32' },
  rate: { type: 'string' },
  duration: { type: 'string', default: '30' },
  // The broker is a new JVM in every run: its JIT compilers take minutes of traffic to settle, and
  // until then its CPU per change is two to three times the steady figure (README, "Benchmark").
  warmup: { type: 'string', default: '90' },
  cards: { type: 'string', default: '200' },
  vendors: { type: 'string', default: 'pismo' },
  bodies: { type: 'string', default: '4096' },
  'max-inflight': { type: 'string', default: '1024' },
  'cold-connections': { type: 'boolean', default: false },
  'timeout-ms': { type: 'string', default: '30000' },
  'drain-timeout': { type: 'string', default: '300' },
  'vendor-latency-ms': { type: 'string', default: '0' },
  baseline: { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
});

const vendors = values.vendors!.split(',') as VendorName[];
for (const vendor of vendors) if (!VENDOR_NAMES.includes(vendor)) commandLine.fail(`unknown vendor "${vendor}"`);
const rate = values.rate === undefined ? undefined : commandLine.positive('rate', values.rate);
const concurrency = commandLine.positive('concurrency', values.concurrency);
const durationSeconds = commandLine.positive('duration', values.duration);
const warmupSeconds = commandLine.positive('warmup', values.warmup, { allowZero: true });
const cardCount = commandLine.positive('cards', values.cards);
const bodyCount = commandLine.positive('bodies', values.bodies);
const maxInFlight = commandLine.positive('max-inflight', values['max-inflight']);
/** Connections to intake the HTTP door keeps: one per request it may have in flight. */
const maxSockets = rate ? Math.max(concurrency, maxInFlight) : concurrency;
const timeoutMs = commandLine.positive('timeout-ms', values['timeout-ms']);
const drainTimeoutMs = commandLine.positive('drain-timeout', values['drain-timeout']) * 1000;
const vendorLatencyMs = commandLine.positive('vendor-latency-ms', values['vendor-latency-ms'], { allowZero: true });
const door = values.door;
if (door !== 'http' && door !== 'kafka') commandLine.fail(`--door must be http or kafka, not "${door}"`);
if (values.secured && process.env.KAFKA_BROKERS) commandLine.fail('--secured starts a broker of its own: leave KAFKA_BROKERS unset');
// The bare pipe speaks plaintext only.
if (values.secured && values.baseline) commandLine.fail('--baseline runs on a plaintext broker only: leave out --secured');
// Each Kafka-door request carries its own request id under its signature, so none can be sent twice:
// enough are signed before the clock starts for the whole run (at 0.1 ms each).
const presignedCount = commandLine.positive('presigned', values.presigned ?? String(rate ? Math.ceil(rate * (warmupSeconds + durationSeconds) * 1.2) + concurrency : 20_000));
const mode = rate ? `open loop ${rate}/s` : `closed loop, ${concurrency} in flight`;
const TERMINAL_TYPES = [EVENT_TYPES.passwordChanged, EVENT_TYPES.failed];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface AuditRecord {
  recordedAt: number;
  type: string;
}

/**
 * Waits until each of these requests has its terminal audit record (changed or failed), or progress
 * stops for stallMs, or the deadline passes. Asks only about the requests still pending, so the
 * question shrinks as they finish; requests the load generator gave up on (a timeout) but intake
 * accepted anyway are not counted.
 */
async function awaitAudit(db: Client, requestIds: Iterable<string>, timeoutMs: number, stallMs = 30_000): Promise<Map<string, AuditRecord>> {
  const pending = new Set(requestIds);
  const recorded = new Map<string, AuditRecord>();
  const deadline = Date.now() + timeoutMs;
  let progressAt = Date.now();
  while (pending.size > 0) {
    const { rows } = await db.query<{ request_id: string; recorded_at: Date; type: string }>(
      'SELECT request_id, recorded_at, type FROM audit_events WHERE type = ANY($1) AND request_id = ANY($2::text[])',
      [TERMINAL_TYPES, [...pending]],
    );
    for (const row of rows) {
      pending.delete(row.request_id);
      recorded.set(row.request_id, { recordedAt: row.recorded_at.getTime(), type: row.type });
    }
    if (rows.length > 0) progressAt = Date.now();
    if (pending.size === 0) break;
    if (Date.now() - progressAt > stallMs || Date.now() > deadline) {
      console.error(`[bench] gave up waiting: ${pending.size} of ${recorded.size + pending.size} accepted changes not audited`);
      break;
    }
    await sleep(500);
  }
  return recorded;
}

/** With --cpu-prof DIR every service writes DIR/<app>.cpuprofile when it stops (open it in Chrome DevTools). */
function profilingEnvironments(apps: AppName[]): Partial<Record<AppName, Record<string, string>>> {
  const directory = values['cpu-prof'];
  if (!directory) return {};
  mkdirSync(directory, { recursive: true });
  const preload = path.join(__dirname, 'cpu-profile-preload.js');
  return Object.fromEntries(apps.map((app) => [app, { NODE_OPTIONS: `--require ${preload}`, CPU_PROFILE_FILE: path.resolve(directory, `${app}.cpuprofile`) }]));
}

function mergeEnvironments(...layers: Partial<Record<AppName, Record<string, string>>>[]): Partial<Record<AppName, Record<string, string>>> {
  const merged: Partial<Record<AppName, Record<string, string>>> = {};
  for (const layer of layers) for (const [app, env] of Object.entries(layer) as [AppName, Record<string, string>][]) merged[app] = { ...merged[app], ...env };
  return merged;
}

async function main(): Promise<void> {
  const infrastructure = await provisionTestInfrastructure(values.secured ? { secured: true } : {});
  const { kafkaSecurity } = infrastructure;
  const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-bench-'));
  const apps: AppName[] = ['audit', 'intake', ...vendors.flatMap((vendor) => [`sandbox-${vendor}` as const, `worker-${vendor}` as const])];
  // A secured broker knows its requesters by name, each with its one reply topic; a plaintext one takes a requester of the run's own.
  const requesterName = kafkaSecurity ? 'core-banking' : 'bench';
  const replyTopic = kafkaSecurity ? KAFKA_REQUESTERS[requesterName as keyof typeof KAFKA_REQUESTERS] : `pinflow-bench.answers.${randomUUID().slice(0, 8)}`;
  const requester = door === 'kafka' ? await KafkaRequester.create(requesterName, [replyTopic]) : undefined;
  const stack = await startStack({
    kafkaBrokers: infrastructure.kafkaBrokers,
    databaseUrl: infrastructure.databaseUrl,
    stateDir: path.join(work, 'state'),
    logDir: path.join(work, 'logs'),
    logLevel: 'warn',
    apps,
    // One caller (`bench`) sends all the load: the per-caller rate limit would measure itself, not intake.
    env: mergeEnvironments(kafkaSecurity?.apps ?? {}, { intake: { AUTH_RATE_LIMIT: String(Number.MAX_SAFE_INTEGER), ...requester?.intakeEnv } }, profilingEnvironments(apps)),
  });
  let stackRunning = true;
  const brokerPid = listeningPid(Number(infrastructure.kafkaBrokers.split(',')[0].split(':').at(-1)));
  const db = new Client({ connectionString: infrastructure.databaseUrl });
  await db.connect();
  let dbOpen = true;
  try {
    if (vendorLatencyMs > 0) {
      for (const vendor of vendors) {
        const response = await fetch(`${stack.urls[`sandbox-${vendor}`]}/sandbox/knobs`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ latencyMs: vendorLatencyMs }),
        });
        if (!response.ok) throw new Error(`sandbox-${vendor} refused the latency knob: ${response.status} ${await response.text()}`);
      }
    }
    const token = await stack.secrets.token(['pin:write'], { subject: 'bench', expiresIn: '2h' });
    const scenarios = new PinChangeScenarios(stack, token);
    const cards = vendors.flatMap((vendor) => Array.from({ length: cardCount }, (_, index) => ({ vendor, cardId: scenarios.cardId(vendor, index) })));
    for (const { vendor, cardId } of cards) await scenarios.seed(vendor, cardId);

    // Sealing a PIN costs an RSA encryption: done before the clock starts, so the load generator is
    // not what limits the rate. A vendor whose scenario needs a card state per change (Vault's requests
    // carry the one-time code texted for that change) has its requests built as they are sent.
    /** A change as both doors take it: the HTTP request and its Kafka-door form. */
    type BenchRequest = PinChangeRequest & { kafkaRequest: Record<string, unknown> };
    const build = async (vendor: VendorName, cardId: string): Promise<BenchRequest> => {
      const request = await scenarios.request(vendor, cardId);
      return { ...request, kafkaRequest: scenarios.kafkaRequest(vendor, request) };
    };
    const slots: (BenchRequest | (() => Promise<BenchRequest>))[] = [];
    for (let index = 0; index < Math.max(bodyCount, cards.length); index += 1) {
      const { vendor, cardId } = cards[index % cards.length];
      slots.push(scenarios.oneChangePerCard(vendor) ? () => build(vendor, cardId) : await build(vendor, cardId));
    }
    /** Each slot in turn, made ready to send as `prepare` makes it: ahead of time for the slots built ahead. */
    async function prepared<R>(count: number, prepare: (request: BenchRequest) => R | Promise<R>): Promise<(R | (() => Promise<R>))[]> {
      const ready: (R | (() => Promise<R>))[] = [];
      for (let index = 0; index < count; index += 1) {
        const slot = slots[index % slots.length];
        ready.push(typeof slot === 'function' ? async () => prepare(await slot()) : await prepare(slot));
      }
      return ready;
    }
    const loadThrough =
      <R>(through: Door<R>, next: () => R | Promise<R>) =>
      (seconds: number, loadRate?: number): Promise<LoadResult> =>
        runLoad({ door: through, next, durationMs: seconds * 1000, rate: loadRate, concurrency, maxInFlight });
    let load: (seconds: number, loadRate?: number) => Promise<LoadResult>;
    let through: Door<PreparedMessage> | Door<PreparedRequest>;
    let connectHttpCallers = async () => {};
    if (requester) {
      const sign = async ({ kafkaRequest }: BenchRequest): Promise<PreparedMessage> => {
        const clientRequestId = randomUUID();
        return { clientRequestId, message: await requester.message(String(kafkaRequest.cardId), { schemaVersion: REQUEST_SCHEMA_VERSION, clientRequestId, replyTopic, ...kafkaRequest }) };
      };
      console.error(`[bench] signing ${presignedCount} Kafka-door requests`);
      const presigned = await prepared(presignedCount, sign);
      const kafka = await kafkaDoor({ brokers: infrastructure.kafkaBrokers, requester: requester.name, requestTopic: requester.topic, replyTopic, timeoutMs, security: kafkaSecurity?.requesters[requester.name] });
      const signedAsSent = (index: number) => {
        const slot = slots[index % slots.length];
        return typeof slot === 'function' ? slot().then(sign) : sign(slot);
      };
      let sent = 0;
      load = loadThrough(kafka, () => {
        const index = sent++;
        if (index === presigned.length) console.error(`[bench] the ${presigned.length} pre-signed requests ran out: signing as sent (raise --presigned)`);
        const slot = index < presigned.length ? presigned[index] : undefined;
        if (slot === undefined) return signedAsSent(index);
        return typeof slot === 'function' ? slot() : slot;
      });
      through = kafka;
    } else {
      const ready = await prepared(slots.length, ({ path: requestPath, body }): PreparedRequest => ({ path: requestPath, body: Buffer.from(JSON.stringify(body)) }));
      let sent = 0;
      const http = httpDoor({ baseUrl: stack.urls.intake, token, maxSockets, timeoutMs });
      load = loadThrough(http, () => {
        const slot = ready[sent++ % ready.length];
        return typeof slot === 'function' ? slot() : slot;
      });
      through = http;
      connectHttpCallers = async () => {
        const opened = await http.connect(maxSockets);
        console.error(`[bench] ${opened} keep-alive connections open to intake`);
      };
    }

    let warmupAccepted = 0;
    if (warmupSeconds > 0) {
      // Not measured: JIT (V8 and the broker's JVM), connection pools, consumer fetch sizes settle.
      console.error(`[bench] warm-up: ${warmupSeconds} s closed loop, ${concurrency} in flight`);
      const warmup = await load(warmupSeconds);
      warmupAccepted = warmup.accepted.size;
      await awaitAudit(db, warmup.accepted.keys(), 120_000);
    }

    // Callers keep a pool of connections, so overload is more requests than intake takes, not more
    // connections than it accepts at once (a connection storm, which --cold-connections keeps).
    if (rate && !values['cold-connections']) await connectHttpCallers();
    const processes: Record<string, number | undefined> = Object.fromEntries(apps.map((app) => [app, stack.services[app].pid]));
    const meter = new CpuMeter({ ...processes, kafkaBroker: brokerPid, loadGenerator: process.pid }, db);
    console.error(`[bench] measuring: ${mode} through the ${door} door${kafkaSecurity ? ' (SASL_SSL)' : ''} for ${durationSeconds} s over ${cards.length} cards (${vendors.join(', ')}); load average ${os.loadavg()[0]}`);
    const startedAt = Date.now();
    await meter.start();
    const result = await load(durationSeconds, rate);
    await through.close();
    const refusedCount = Object.values(result.refused).reduce((sum, count) => sum + count, 0);
    console.error(`[bench] load done: ${result.accepted.size} accepted, ${refusedCount} refused, ${result.skipped} skipped in ${result.seconds.toFixed(1)} s; draining`);
    const loadEndedAt = Date.now();
    const audited = await awaitAudit(db, result.accepted.keys(), drainTimeoutMs);
    const completed = audited.size;
    const cpu = await meter.stop(completed);

    const acceptToAudit = [...audited].map(([requestId, { recordedAt }]) => recordedAt - result.accepted.get(requestId)!).sort((a, b) => a - b);
    const lastAuditAt = Math.max(...[...audited.values()].map(({ recordedAt }) => recordedAt));
    const acceptLatencies = result.acceptLatencies.sort((a, b) => a - b);
    const report = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      mode,
      door,
      secured: kafkaSecurity !== undefined,
      vendors,
      durationSeconds,
      warmupSeconds,
      warmupAccepted,
      cards: cards.length,
      vendorLatencyMs,
      sent: result.sent,
      accepted: result.accepted.size,
      refused: refusedCount,
      refusedReasons: result.refused,
      skipped: result.skipped,
      completed,
      failed: [...audited.values()].filter(({ type }) => type === EVENT_TYPES.failed).length,
      allAudited: completed === result.accepted.size,
      throughputPerSecond: completed ? Number((completed / ((lastAuditAt - startedAt) / 1000)).toFixed(1)) : 0,
      acceptedPerSecond: Number((result.accepted.size / result.seconds).toFixed(1)),
      drainSeconds: Number(((Date.now() - loadEndedAt) / 1000).toFixed(1)),
      acceptLatencyMs: { p50: percentile(acceptLatencies, 50), p99: percentile(acceptLatencies, 99) },
      acceptToAuditMs: { p50: percentile(acceptToAudit, 50), p95: percentile(acceptToAudit, 95), p99: percentile(acceptToAudit, 99), max: acceptToAudit.at(-1) ?? null },
      cpu,
      peakMemoryMiB: Object.fromEntries(apps.map((app) => [app, Math.round(stack.services[app].peakMemoryKb() / 1024)])),
    };
    await db.end();
    dbOpen = false;
    await stack.stop();
    stackRunning = false;

    let baseline: Awaited<ReturnType<typeof runBaseline>> | undefined;
    if (values.baseline) {
      const loadArgs = [...(rate ? ['--rate', String(rate)] : ['--concurrency', String(concurrency)]), '--duration', String(durationSeconds), '--warmup', String(warmupSeconds), '--bodies', String(bodyCount)];
      baseline = await runBaseline({ kafkaBrokers: infrastructure.kafkaBrokers, databaseUrl: infrastructure.databaseUrl, brokerPid, workDir: work, loadArgs });
    }
    const output = {
      ...report,
      ...(baseline
        ? { baseline, pinflowOverBaseline: Number((report.throughputPerSecond / baseline.summary.throughputPerSecond).toFixed(3)) }
        : {}),
    };
    console.log(JSON.stringify(output, null, 2));
    console.log(
      `${mode}: ${report.throughputPerSecond} changes/s, ${report.refused} refused, ${report.cpu.msPerChange.total} CPU ms per change` +
        (baseline ? `; bare pipe ${baseline.summary.throughputPerSecond}/s, pinflow / baseline = ${output.pinflowOverBaseline}` : ''),
    );
    console.log(`CPU ms per change: ${Object.entries(report.cpu.msPerChange).map(([name, ms]) => `${name} ${ms ?? '?'}`).join(', ')}`);
    const outDir = path.join(repoRoot, '.pinflow', 'bench');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, `pin-changes-${report.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(output, null, 2));
  } finally {
    if (dbOpen) await db.end().catch(() => undefined);
    if (stackRunning) await stack.stop();
    await infrastructure.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
