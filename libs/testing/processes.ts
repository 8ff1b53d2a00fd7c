import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * V8 memory flags for every process started here, as the Dockerfile sets them (README, "Benchmark",
 * "Memory", has the figures). The old-generation ceiling makes V8 collect instead of growing to ~200 MB
 * of garbage under load; a smaller young generation saves 16 MB more.
 */
const SERVICE_V8_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=256'];

/**
 * glibc malloc settings for every service, as the Dockerfile sets them. By default glibc raises its
 * mmap threshold each time a large mmap'd block is freed (up to 32 MiB, the trim threshold to twice
 * that), so once kafkajs has freed a fetch buffer, later large buffers come from the main heap and
 * what they free stays resident. Fixed thresholds keep every block over 128 KiB in its own mapping,
 * returned when freed, and trim the heap: at 100 in flight intake peaked at 139–147 MiB against
 * 150–155, with no CPU cost seen (README, "Memory").
 */
const SERVICE_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

/** A service running as its own OS process, its output captured to a log file. */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private peakRssKb = 0;
  private sampler?: NodeJS.Timeout;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    mkdirSync(path.dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--enable-source-maps', ...SERVICE_V8_FLAGS, this.entry], {
      env: { ...SERVICE_MALLOC_ENV, ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
    // Peak resident memory, sampled from /proc while the service runs (Linux only; zero elsewhere).
    this.sampler = setInterval(() => this.sampleRss(), 250);
    this.sampler.unref();
  }

  isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Highest resident set size seen so far, in KiB (VmHWM: the kernel's own high-water mark). */
  peakMemoryKb(): number {
    this.sampleRss();
    return this.peakRssKb;
  }

  private sampleRss(): void {
    if (!this.child?.pid || !this.isRunning()) return;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) this.peakRssKb = Math.max(this.peakRssKb, Number(hwm[1]));
    } catch {
      // The process exited between the check and the read.
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. Resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.child || !this.exited) return null;
    clearInterval(this.sampler);
    if (this.isRunning()) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }

  /** Simulates a crash: no chance to clean up. */
  async kill(): Promise<void> {
    clearInterval(this.sampler);
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export async function waitForReady(service: ServiceProcess, baseUrl: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${service.name} to be ready`, async () => {
    if (!service.isRunning()) throw new Error(`${service.name} exited; see ${service.logFile}`);
    const response = await fetch(`${baseUrl}/health/ready`).catch(() => undefined);
    return response?.ok;
  }, timeoutMs);
}
