import { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { describeError } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import type { CommandRunner } from './command-runner';

/** A sweep at least this often, so an overdue command ends close to its timeout. */
const MAX_SWEEP_INTERVAL_MS = 15_000;

export interface SweepTimings {
  /** How long an outcome may stay recorded but unpublished before the sweep publishes it. */
  republishAfterMs: number;
  /** For a vendor that settles commands by event: how long a command waits for that event. */
  vendorEventTimeoutMs?: number;
}

/**
 * Runs the worker's periodic repairs: it publishes outcomes whose publication was cut short and, for a
 * vendor that settles commands by event, ends the wait of commands whose event never came, so that
 * every command gets its one outcome without waiting for a redelivery. A failed sweep (the database
 * or the brokers away) is logged and tried again at the next tick.
 */
export class OverdueSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly runner: CommandRunner,
    private readonly timings: SweepTimings,
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { republishAfterMs, vendorEventTimeoutMs = Infinity } = this.timings;
    const interval = Math.min(MAX_SWEEP_INTERVAL_MS, Math.ceil(Math.min(republishAfterMs, vendorEventTimeoutMs) / 4));
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.logger.warn({ error: describeError(error) }, 'sweep for overdue commands failed; trying again later'))
        .finally(() => (this.sweeping = undefined));
    }, interval);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    if (this.timings.vendorEventTimeoutMs !== undefined) await this.runner.endOverdueWaits(this.timings.vendorEventTimeoutMs);
    await this.runner.publishStranded(this.timings.republishAfterMs);
  }
}
