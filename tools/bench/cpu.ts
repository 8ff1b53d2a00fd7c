import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Client } from 'pg';

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** CPU (utime + stime, every thread) a process has used since it started, in ms; undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): [0] is field 3 (state), [11] utime, [12] stime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Whole-machine busy CPU so far in ms, from /proc/stat: what everything on the box used, not only the bench. */
function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS;
}

/** The pid listening on a loopback TCP port (the Kafka broker's JVM), from `ss`; undefined if it cannot tell. */
export function listeningPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuReport {
  /** CPU ms over the window per named process, plus `postgresBackends` and `total`; null where unknown. */
  ms: Record<string, number | null>;
  /** The same per completed change. */
  msPerChange: Record<string, number | null>;
  /** Backends of the database seen in the window, and how many exited before its end (their last sample counts). */
  postgresBackends: { seen: number; exited: number };
  windowSeconds: number;
  /** Whole-machine busy cores over the window, and what the processes measured here used of them. */
  machineBusyCores: number;
  measuredCores: number;
  loadAverage: { start: number; end: number };
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * CPU used over a measured window by fixed processes (the services, the broker, this load generator)
 * and by every PostgreSQL backend serving one database. Backends come and go (pools open and close
 * connections), so they are sampled periodically: one that starts in the window counts from zero, one
 * that exits keeps its last sample, which loses at most one interval of its CPU.
 */
export class CpuMeter {
  private readonly backendStart = new Map<number, number>();
  private readonly backendLast = new Map<number, number>();
  private readonly exited = new Set<number>();
  private fixedStart: Record<string, number | undefined> = {};
  private sampler?: NodeJS.Timeout;
  private startedAt = 0;
  private machineStart = 0;
  private loadStart = 0;
  private sampling?: Promise<void>;

  /** `monitor` is a connection to the benchmark's database; its own backend is left out. */
  constructor(
    private readonly processes: Record<string, number | undefined>,
    private readonly monitor: Client,
    private readonly intervalMs = 500,
  ) {}

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.machineStart = machineBusyMs();
    this.loadStart = os.loadavg()[0];
    this.fixedStart = Object.fromEntries(Object.entries(this.processes).map(([name, pid]) => [name, pid === undefined ? undefined : processCpuMs(pid)]));
    for (const pid of await this.backendPids()) {
      const cpu = processCpuMs(pid);
      if (cpu === undefined) continue;
      this.backendStart.set(pid, cpu);
      this.backendLast.set(pid, cpu);
    }
    this.sampler = setInterval(() => {
      this.sampling ??= this.sampleBackends().finally(() => (this.sampling = undefined));
    }, this.intervalMs);
  }

  async stop(completed: number): Promise<CpuReport> {
    clearInterval(this.sampler);
    await this.sampling;
    await this.sampleBackends();
    const windowMs = Date.now() - this.startedAt;
    const ms: Record<string, number | null> = {};
    for (const [name, pid] of Object.entries(this.processes)) {
      const start = this.fixedStart[name];
      const end = pid === undefined ? undefined : processCpuMs(pid);
      ms[name] = start === undefined || end === undefined ? null : end - start;
    }
    let backends = 0;
    for (const [pid, last] of this.backendLast) backends += last - (this.backendStart.get(pid) ?? 0);
    ms.postgresBackends = backends;
    ms.total = Object.values(ms).reduce<number>((sum, value) => sum + (value ?? 0), 0);
    const total = ms.total;
    return {
      ms: Object.fromEntries(Object.entries(ms).map(([name, value]) => [name, value === null ? null : Math.round(value)])),
      msPerChange: Object.fromEntries(Object.entries(ms).map(([name, value]) => [name, value === null || completed === 0 ? null : Math.round((value / completed) * 100) / 100])),
      postgresBackends: { seen: this.backendLast.size, exited: this.exited.size },
      windowSeconds: round1(windowMs / 1000),
      machineBusyCores: Math.round(((machineBusyMs() - this.machineStart) / windowMs) * 100) / 100,
      measuredCores: Math.round((total / windowMs) * 100) / 100,
      loadAverage: { start: this.loadStart, end: os.loadavg()[0] },
    };
  }

  private async backendPids(): Promise<number[]> {
    const { rows } = await this.monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return rows.map((row) => row.pid);
  }

  private async sampleBackends(): Promise<void> {
    const current = new Set(await this.backendPids().catch(() => [] as number[]));
    for (const pid of new Set([...current, ...this.backendLast.keys()])) {
      const cpu = current.has(pid) ? processCpuMs(pid) : undefined;
      if (cpu === undefined) {
        if (this.backendLast.has(pid)) this.exited.add(pid);
        continue;
      }
      this.backendLast.set(pid, cpu);
    }
  }
}
