import { EVENT_TYPES } from '@pinflow/contracts';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { repoRoot, waitFor } from '@pinflow/testing';
import { APPS, PinChangeScenarios, provisionTestInfrastructure, startStack, VENDOR_NAMES, VendorName } from '@pinflow/platform';

/**
 * `npm run bench`: a steady stream of PIN changes through intake → Kafka → worker → vendor sandbox
 * (→ the vendor's events → worker) → events → audit, on a real broker and PostgreSQL. Prints
 * throughput, latency from HTTP accept to the audit record of the outcome, and each service's peak
 * memory. Options: --rate (changes/s, default 50) --duration (s, default 30) --cards (per vendor,
 * default 200) --vendors (default pismo; e.g. pismo,solaris,thales-d1,vault).
 */
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '30' },
    cards: { type: 'string', default: '200' },
    vendors: { type: 'string', default: 'pismo' },
  },
});
const vendors = values.vendors!.split(',') as VendorName[];
for (const vendor of vendors) if (!VENDOR_NAMES.includes(vendor)) throw new Error(`unknown vendor ${vendor}`);
const rate = Number(values.rate);
const durationSeconds = Number(values.duration);
const cardCount = Number(values.cards);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const infrastructure = await provisionTestInfrastructure();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-bench-'));
  const stack = await startStack({
    kafkaBrokers: infrastructure.kafkaBrokers,
    databaseUrl: infrastructure.databaseUrl,
    stateDir: path.join(work, 'state'),
    logDir: path.join(work, 'logs'),
    logLevel: 'warn',
    apps: ['audit', 'intake', ...vendors.flatMap((vendor) => [`sandbox-${vendor}` as const, `worker-${vendor}` as const])],
  });
  try {
    const token = await stack.secrets.token(['pin:write'], { subject: 'bench', expiresIn: '1h' });
    const scenarios = new PinChangeScenarios(stack, token);
    const cards = vendors.flatMap((vendor) => Array.from({ length: cardCount }, (_, index) => ({ vendor, cardId: scenarios.cardId(vendor, index) })));
    for (const { vendor, cardId } of cards) await scenarios.seed(vendor, cardId);

    const total = rate * durationSeconds;
    const acceptedAt = new Map<string, number>();
    const acceptLatencies: number[] = [];
    let refused = 0;
    const inFlight = new Set<Promise<void>>();
    console.log(`sending ${total} PIN changes at ${rate}/s over ${cards.length} cards (${vendors.join(', ')})`);
    const started = Date.now();
    for (let index = 0; index < total; index += 1) {
      const due = started + (index * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const { vendor, cardId } = cards[index % cards.length];
      const send = (async () => {
        const request = await scenarios.request(vendor, cardId);
        const sentAt = Date.now();
        const response = await fetch(`${stack.urls.intake}${request.path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(request.body),
        });
        const body = (await response.json()) as { requestId?: string };
        if (response.status !== 202 || !body.requestId) {
          refused += 1;
          return;
        }
        const now = Date.now();
        acceptLatencies.push(now - sentAt);
        acceptedAt.set(body.requestId, now);
      })();
      inFlight.add(send);
      void send.finally(() => inFlight.delete(send));
    }
    await Promise.all(inFlight);
    const sendSeconds = (Date.now() - started) / 1000;

    const db = new Client({ connectionString: infrastructure.databaseUrl });
    await db.connect();
    const recorded = new Map<string, number>();
    await waitFor('every accepted change in the audit trail', async () => {
      const { rows } = await db.query<{ request_id: string; recorded_at: Date }>(
        'SELECT request_id, recorded_at FROM audit_events WHERE type = ANY($1)',
        [[EVENT_TYPES.passwordChanged, EVENT_TYPES.failed]],
      );
      for (const row of rows) recorded.set(row.request_id, row.recorded_at.getTime());
      return [...acceptedAt.keys()].every((id) => recorded.has(id));
    }, 300_000, 500).catch((error) => console.error(String(error)));
    const { rows: failures } = await db.query<{ count: string }>('SELECT count(*) FROM audit_events WHERE type = $1', [EVENT_TYPES.failed]);
    await db.end();

    const latencies = [...acceptedAt.entries()].filter(([id]) => recorded.has(id)).map(([id, at]) => recorded.get(id)! - at).sort((a, b) => a - b);
    const sortedAccept = acceptLatencies.sort((a, b) => a - b);
    const first = Math.min(...acceptedAt.values());
    const last = Math.max(...[...recorded.values()]);
    const memory = Object.fromEntries(APPS.map((app) => [app, Math.round(stack.services[app].peakMemoryKb() / 1024)]));
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      vendors,
      offeredRatePerSecond: rate,
      durationSeconds,
      cards: cards.length,
      accepted: acceptedAt.size,
      refused,
      completed: latencies.length,
      failed: Number(failures[0].count),
      sendSeconds: Number(sendSeconds.toFixed(1)),
      throughputPerSecond: Number((latencies.length / ((last - first) / 1000)).toFixed(1)),
      acceptLatencyMs: { p50: percentile(sortedAccept, 50), p99: percentile(sortedAccept, 99) },
      acceptToAuditMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) },
      peakMemoryMiB: memory,
    };
    console.log(JSON.stringify(result, null, 2));
    const outDir = path.join(repoRoot, '.pinflow', 'bench');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, `pin-changes-${result.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2));
  } finally {
    await stack.stop();
    await infrastructure.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
