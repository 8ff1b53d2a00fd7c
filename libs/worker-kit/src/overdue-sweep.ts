import { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { describeError } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import type { CommandRunner } from './command-runner';

/** A sweep at least this often, so an overdue command ends close to its timeout. */
const MAX_SWEEP_INTERVAL_MS = 15_000;

/**
 * Runs CommandRunner.settleOverdue periodically for a worker whose vendor settles commands by event,
 * so a command whose event never comes still gets its one outcome. A failed sweep (the database
 * away) is logged and tried again at the next tick.
 */
export class OverdueSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly runner: CommandRunner,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const interval = Math.min(MAX_SWEEP_INTERVAL_MS, Math.ceil(this.timeoutMs / 4));
    this.timer = setInterval(() => {
      this.sweeping ??= this.runner
        .settleOverdue(this.timeoutMs)
        .catch((error: unknown) => this.logger.warn({ error: describeError(error) }, 'sweep for overdue vendor events failed; trying again later'))
        .finally(() => (this.sweeping = undefined));
    }, interval);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
