import { commandTopic, EVENTS_TOPIC } from '@pinflow/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DrillEnvironment } from './environment';

/** A fault the platform must ride out without losing or doubling a PIN change. */
export interface Scenario {
  id: number;
  name: string;
  /** What breaks, in words, for the report. */
  fault: string;
  /** How long the fault lasts (before its repair starts); the stream is planned around it. */
  faultMs: number;
  /**
   * About how long the repair takes until the part is ready again (a restarted broker replays its log;
   * a restarted consumer waits for its crashed predecessor's session to expire): the stream goes on
   * for a while after it.
   */
  repairMs: number;
  /** Breaks something, waits `faultMs`, repairs it; resolves once the repaired part is ready again. */
  inject(env: DrillEnvironment): Promise<void>;
}

/** The node leading the most partitions of the stream's topics: killing it moves the most leaders. */
async function busiestBroker(env: DrillEnvironment): Promise<number> {
  const admin = env.kafkaAdmin().admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [...env.vendors.map(commandTopic), EVENTS_TOPIC] });
    const led = new Map<number, number>();
    for (const partition of topics.flatMap((topic) => topic.partitions)) led.set(partition.leader, (led.get(partition.leader) ?? 0) + 1);
    const [nodeId] = [...led].sort((a, b) => b[1] - a[1])[0];
    // The script numbers nodes from 1, in the order of the broker list.
    return nodeId - 1;
  } finally {
    await admin.disconnect();
  }
}

async function setKnobs(env: DrillEnvironment, knobs: Record<string, unknown>): Promise<void> {
  for (const vendor of env.vendors) {
    const answer = await env.sandbox(vendor).setKnobs(knobs);
    if (answer.status !== 200) throw new Error(`sandbox-${vendor} refused knobs ${JSON.stringify(knobs)}: ${answer.status} ${answer.text}`);
  }
}

/** Runs `repair` however the wait ends, so a failed drill leaves nothing broken for the next one. */
async function broken(faultMs: number, repair: () => Promise<unknown>): Promise<void> {
  try {
    await sleep(faultMs);
  } finally {
    await repair();
  }
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    name: 'broker-crash',
    fault: 'kill -9 of the broker leading the most partitions, restarted 20 s later',
    faultMs: 20_000,
    repairMs: 10_000,
    async inject(env) {
      const node = await busiestBroker(env);
      await env.cluster.kill(node);
      await broken(this.faultMs, () => env.cluster.resume(node));
    },
  },
  {
    id: 2,
    name: 'worker-crash',
    fault: "kill -9 of every vendor's worker, restarted 5 s later",
    faultMs: 5_000,
    repairMs: 30_000,
    async inject(env) {
      const workers = env.vendors.map((vendor) => `worker-${vendor}` as const);
      await Promise.all(workers.map((worker) => env.stack.kill(worker)));
      await broken(this.faultMs, () => Promise.all(workers.map((worker) => env.stack.start(worker))));
    },
  },
  {
    id: 3,
    name: 'postgres-restart',
    fault: 'PostgreSQL stopped (fast shutdown) and started again 10 s later',
    faultMs: 10_000,
    repairMs: 2_000,
    async inject(env) {
      await env.postgres.restart({ mode: 'fast', downMs: this.faultMs });
    },
  },
  {
    id: 4,
    name: 'vendor-flaky',
    fault: 'every vendor answers 20% of calls with 5xx and times out 5% (applied, then 504), for 30 s',
    faultMs: 30_000,
    repairMs: 0,
    async inject(env) {
      await setKnobs(env, { errorRate: 0.2, timeoutRate: 0.05 });
      await broken(this.faultMs, () => setKnobs(env, { errorRate: 0, timeoutRate: 0 }));
    },
  },
  {
    id: 5,
    name: 'vendor-down',
    fault: 'every vendor answers 503 to everything for 60 s',
    faultMs: 60_000,
    repairMs: 0,
    async inject(env) {
      await setKnobs(env, { down: true });
      await broken(this.faultMs, () => setKnobs(env, { down: false }));
    },
  },
  {
    id: 6,
    name: 'all-brokers-down',
    fault: 'kill -9 of all three brokers; restarted 30 s later',
    faultMs: 30_000,
    repairMs: 35_000,
    async inject(env) {
      await env.cluster.killAll();
      await broken(this.faultMs, () => env.cluster.resumeAll());
    },
  },
];

export function scenarioById(id: number): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.id === id);
  if (!scenario) throw new Error(`no scenario ${id}: there are ${SCENARIOS.map((known) => known.id).join(', ')}`);
  return scenario;
}
