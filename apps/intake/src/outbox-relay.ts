import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PrismaClient } from '@pinflow/db';
import { JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { INTAKE_LOGGER } from './tokens';

// One relay at a time across all intake replicas, so messages leave in the order they were accepted.
const RELAY_LOCK = 7_240_001;
const BATCH_SIZE = 500;

/**
 * Publishes what intake accepted (the transactional outbox) with the idempotent producer, in order,
 * and deletes each row once the broker has acknowledged it. Woken right after each acceptance; polls
 * as a fallback and backs off while the broker is away. A crash between publishing and deleting
 * publishes again: consumers deduplicate on command and event ids.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private lastFailure?: Date;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly producer: JsonProducer,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    @Inject(INTAKE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Called after a request committed: publish now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** False while the last attempt to publish failed: accepted requests wait in PostgreSQL. */
  isPublishing(): boolean {
    return this.lastFailure === undefined;
  }

  async backlog(): Promise<number> {
    return this.prisma.outboxMessage.count();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    // One last pass so requests accepted just before SIGTERM leave with this replica.
    await this.relayBatch().catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let relayed = 0;
      try {
        relayed = await this.relayBatch();
        failures = 0;
        this.lastFailure = undefined;
      } catch (error) {
        failures += 1;
        this.lastFailure = new Date();
        this.logger.warn({ err: error, failures }, 'outbox relay could not publish; accepted requests wait in the outbox');
      }
      if (relayed < BATCH_SIZE) {
        const pause = failures > 0 ? Math.min(5_000, 250 * 2 ** Math.min(failures, 5)) : this.config.INTAKE_OUTBOX_POLL_MS;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private relayBatch(): Promise<number> {
    return this.prisma.$transaction(
      async (tx) => {
        const [{ locked }] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}) AS locked`;
        if (!locked) return 0;
        const rows = await tx.outboxMessage.findMany({ orderBy: { sequence: 'asc' }, take: BATCH_SIZE });
        if (rows.length === 0) return 0;
        await this.producer.sendEncoded(rows.map((row) => ({ topic: row.topic, key: row.key, value: row.value, headers: row.headers as Record<string, string> })));
        await tx.outboxMessage.deleteMany({ where: { sequence: { in: rows.map((row) => row.sequence) } } });
        return rows.length;
      },
      { timeout: 60_000 },
    );
  }
}
