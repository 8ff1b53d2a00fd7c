import { PreparedCall, startLocalKafka, VENDOR_NAMES, VendorName, vendorPlatform } from '@pinflow/platform';
import { SandboxClient } from '@pinflow/sandbox-kit';
import { appEntry, freePort, ServiceProcess, waitForReady } from '@pinflow/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `node tools/build.mjs && node dist/tools/bench/sandbox-cost.js`: the CPU a vendor sandbox spends on
 * one call of its main PIN operation, made as the vendor's worker makes it. Each sandbox runs as its
 * own process; the requests (the client's crypto included) are prepared before measuring, and the
 * sandbox's own CPU time (utime + stime from /proc/<pid>/stat) is read before and after the measured
 * calls, so neither the client nor the machine's other load counts.
 * Options: --vendors (default all) --calls (measured, default 2000) --warmup (default 300)
 * --concurrency (calls in flight, default 8) --log-level (the sandbox's LOG_LEVEL, default warn as in
 * `npm run bench`) --cpu-prof <dir> (writes a V8 CPU profile of each sandbox there when it stops).
 * Each sandbox's floor is measured too: the same number of calls to a vendor endpoint that does next
 * to nothing, i.e. what HTTP, NestJS, the token check and the drills cost whatever the operation.
 * A sandbox that publishes events (Pismo's) gets a local broker unless KAFKA_BROKERS names one.
 */
const { values } = parseArgs({
  options: {
    vendors: { type: 'string', default: VENDOR_NAMES.join(',') },
    calls: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'string' },
  },
});
const vendors = values.vendors!.split(',') as VendorName[];
for (const vendor of vendors) if (!VENDOR_NAMES.includes(vendor)) throw new Error(`unknown vendor ${vendor}`);
const measuredCalls = Number(values.calls);
const warmupCalls = Number(values.warmup);
const concurrency = Number(values.concurrency);

const CLIENT = { clientId: 'bench', clientSecret: 'bench-secret' };
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time the process has used so far, user and system, in ms (fields 14 and 15 of /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

async function sendAll(sandbox: SandboxClient, calls: readonly PreparedCall[], successStatus: number): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < calls.length) {
      const { method, route, body, headers } = calls[next++];
      const answer = await sandbox.call(method, route, { body, headers });
      if (answer.status !== successStatus) throw new Error(`${method} ${route} answered ${answer.status}: ${answer.text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
}

interface Measurement {
  vendor: VendorName;
  cpuMsPerCall: number;
  floorCpuMsPerCall: number;
  callsPerSecond: number;
  peakRssMb: number;
}

async function measure(vendor: VendorName, kafkaBrokers: string, work: string): Promise<Measurement> {
  const driver = vendorPlatform(vendor).sandboxBench;
  const app = `sandbox-${vendor}`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: values['log-level']!,
    KAFKA_BROKERS: kafkaBrokers,
    SANDBOX_CLIENT_ID: CLIENT.clientId,
    SANDBOX_CLIENT_SECRET: CLIENT.clientSecret,
    ...driver.env,
  };
  if (values['cpu-prof']) {
    env.NODE_OPTIONS = `--require ${path.join(__dirname, 'cpu-profile-preload.js')}`;
    env.CPU_PROFILE_FILE = path.resolve(values['cpu-prof'], `${app}.cpuprofile`);
  }
  const service = new ServiceProcess(app, appEntry(app), env, path.join(work, `${app}.log`));
  service.start();
  try {
    await waitForReady(service, baseUrl);
    const sandbox = await SandboxClient.signedIn(baseUrl, driver.tokenPath, CLIENT);
    const calls = await driver.prepare(sandbox, warmupCalls + measuredCalls);
    await sendAll(sandbox, calls.slice(0, warmupCalls), driver.successStatus);
    const cpuBefore = cpuMs(service.pid!);
    const started = process.hrtime.bigint();
    await sendAll(sandbox, calls.slice(warmupCalls), driver.successStatus);
    const ended = process.hrtime.bigint();
    const cpuUsed = cpuMs(service.pid!) - cpuBefore;
    const elapsedMs = Number(ended - started) / 1e6;
    // The profile's timestamps are on the same monotonic clock: this tells its measured part.
    if (values['cpu-prof']) console.log(`${app}: measured calls from ${started / 1000n} to ${ended / 1000n} µs (monotonic)`);
    const floorCalls = Array<PreparedCall>(measuredCalls).fill(driver.floor);
    await sendAll(sandbox, floorCalls.slice(0, warmupCalls), 200);
    const floorCpuBefore = cpuMs(service.pid!);
    await sendAll(sandbox, floorCalls, 200);
    const floorCpuMsPerCall = (cpuMs(service.pid!) - floorCpuBefore) / measuredCalls;
    return { vendor, cpuMsPerCall: cpuUsed / measuredCalls, floorCpuMsPerCall, callsPerSecond: (measuredCalls * 1000) / elapsedMs, peakRssMb: service.peakMemoryKb() / 1024 };
  } finally {
    await service.stop();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'pinflow-sandbox-cost-'));
  let kafkaBrokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:1';
  let stopKafka = async () => {};
  if (vendors.some((vendor) => vendorPlatform(vendor).sandboxBench.needsKafka) && !process.env.KAFKA_BROKERS) {
    const kafka = await startLocalKafka({ port: await freePort(), controllerPort: await freePort(), stateDir: path.join(work, 'kafka') });
    kafkaBrokers = kafka.brokers;
    stopKafka = () => kafka.stop();
  }
  try {
    console.log(`${measuredCalls} calls per sandbox after ${warmupCalls} to warm up, ${concurrency} in flight, LOG_LEVEL=${values['log-level']}; logs in ${work}`);
    for (const vendor of vendors) {
      const { cpuMsPerCall, floorCpuMsPerCall, callsPerSecond, peakRssMb } = await measure(vendor, kafkaBrokers, work);
      console.log(
        `${`sandbox-${vendor}`.padEnd(18)} ${cpuMsPerCall.toFixed(3).padStart(7)} ms CPU/call  ${callsPerSecond.toFixed(0).padStart(5)} calls/s  ` +
          `(floor: ${floorCpuMsPerCall.toFixed(3)} ms CPU for a call doing next to nothing)  peak RSS ${peakRssMb.toFixed(0)} MB`,
      );
    }
  } finally {
    await stopKafka();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
