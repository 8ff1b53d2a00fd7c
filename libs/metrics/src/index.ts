import { collectDefaultMetrics, Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration, Registry } from 'prom-client';

/**
 * The process's one registry: what `/metrics` serves. Metrics are declared at module level next to
 * the code that records them, so a process exposes those of the libraries it loads.
 *
 * Labels are bounded sets only (vendor, route template, status, reason, state, partition): never a
 * card id, request id, command id, PIN or anything a caller chooses.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Seconds, from 5 ms to 30 s: HTTP handlers, vendor calls and the life of a request alike. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
  return new Counter({ ...config, registers: [metricsRegistry] });
}

export function gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
  return new Gauge({ ...config, registers: [metricsRegistry] });
}

export function histogram<L extends string>(config: HistogramConfiguration<L>): Histogram<L> {
  return new Histogram({ buckets: LATENCY_BUCKETS, ...config, registers: [metricsRegistry] });
}

/** The seconds since `startedAt` (a `performance.now()`), for a histogram. */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

export type LabelledValue<L extends string> = { labels: Partial<Record<L, string | number>>; value: number };

/** Reads a gauge's values when Prometheus scrapes, e.g. with one database query. */
export type GaugeReader<L extends string> = () => Promise<LabelledValue<L>[]>;

/**
 * A gauge whose values are read at scrape time rather than kept up to date on the hot path (table
 * counts, backlog ages). Each source (a vendor's ledger, the outbox) registers its reader under a
 * key once it is up; a later reader under the same key replaces it. A reader that fails leaves its
 * values out of this scrape, so a database outage never costs the other metrics.
 */
export class ScrapedGauge<L extends string> {
  private readonly readers = new Map<string, GaugeReader<L>>();
  readonly gauge: Gauge<L>;

  constructor(config: Omit<GaugeConfiguration<L>, 'collect'>) {
    const readers = this.readers;
    this.gauge = gauge<L>({
      ...config,
      async collect() {
        const read = await Promise.allSettled([...readers.values()].map((reader) => reader()));
        this.reset();
        for (const outcome of read) {
          if (outcome.status === 'fulfilled') for (const { labels, value } of outcome.value) this.set(labels, value);
        }
      },
    });
  }

  readFrom(key: string, reader: GaugeReader<L>): void {
    this.readers.set(key, reader);
  }
}

/** The registry's text exposition, for `/metrics`. */
export function scrapeMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;
