import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, repoRoot, ServiceProcess, waitFor } from '@pinflow/testing';

const execFileAsync = promisify(execFile);
const BARE_PIPE_DIR = path.join(repoRoot, 'tools', 'bench', 'baseline');
const STAGES = ['vendor', 'intake', 'worker', 'audit'] as const;

export interface BaselineOptions {
  kafkaBrokers: string;
  /** The benchmark's scratch database: the bare pipe makes its tables in a schema of its own there. */
  databaseUrl: string;
  brokerPid?: number;
  workDir: string;
  /** Passed to the bare pipe's load generator as they are: --concurrency/--rate, --duration, --warmup, --bodies. */
  loadArgs: string[];
}

export interface BaselineResult {
  /** The bare pipe load generator's JSON summary (see tools/bench/baseline/README.md). */
  summary: { throughputPerSecond: number } & Record<string, unknown>;
  peakMemoryMiB: Record<string, number>;
}

/**
 * The bare pipe (tools/bench/baseline): the same work per PIN change with no framework, one OS process
 * per stage, on the benchmark's broker and database. Its throughput is what this box can do; pinflow's
 * divided by it says how much of that the services leave on the table.
 */
export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const outDir = path.join(options.workDir, 'baseline');
  const env = {
    BP_KAFKA: options.kafkaBrokers,
    BP_DATABASE_URL: options.databaseUrl,
    BP_OUT_DIR: outDir,
    BP_INTAKE_PORT: String(await freePort()),
    BP_VENDOR_PORT: String(await freePort()),
    BP_RUN_ID: String(Date.now()),
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  const script = (name: string) => path.join(BARE_PIPE_DIR, `${name}.mjs`);
  console.error('[bench] bare pipe: keys, schema, topics');
  await execFileAsync(process.execPath, [script('setup')], { env: { ...process.env, ...env } });

  const stages = Object.fromEntries(STAGES.map((stage) => [stage, new ServiceProcess(`bare-pipe-${stage}`, script(stage), env, path.join(outDir, `${stage}.log`))])) as Record<
    (typeof STAGES)[number],
    ServiceProcess
  >;
  try {
    for (const stage of STAGES) stages[stage].start();
    for (const stage of STAGES) {
      await waitFor(`bare pipe ${stage} to be ready`, async () => {
        if (!stages[stage].isRunning()) throw new Error(`bare pipe ${stage} exited; see ${stages[stage].logFile}`);
        return existsSync(path.join(outDir, `${stage}.ready`));
      }, 90_000);
    }
    const pids = { ...(options.brokerPid ? { broker: options.brokerPid } : {}), ...Object.fromEntries(STAGES.map((stage) => [stage, stages[stage].pid])) };
    console.error(`[bench] bare pipe load: ${options.loadArgs.join(' ')}`);
    const loadgen = execFileAsync(process.execPath, [script('loadgen'), ...options.loadArgs], {
      env: { ...process.env, ...env, BP_PIDS: JSON.stringify(pids) },
      maxBuffer: 16 * 1024 * 1024,
    });
    loadgen.child.stderr?.pipe(process.stderr);
    const { stdout } = await loadgen;
    return {
      summary: JSON.parse(stdout.trim().split('\n').at(-1)!),
      peakMemoryMiB: Object.fromEntries(STAGES.map((stage) => [stage, Math.round(stages[stage].peakMemoryKb() / 1024)])),
    };
  } finally {
    for (const stage of [...STAGES].reverse()) await stages[stage].stop();
  }
}
