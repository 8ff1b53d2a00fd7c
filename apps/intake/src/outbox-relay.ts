import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JsonProducer } from '@pinflow/kafka';
import type { Logger } from '@pinflow/logging';
import { Client } from 'pg';
import { INTAKE_CONFIG, IntakeConfig } from './config';
import { INTAKE_LOGGER } from './tokens';

// One relay at a time across all intake replicas, so messages leave in the order they were accepted.
const RELAY_LOCK = 7_240_001;
// Large enough to drain a burst in few round trips; small enough that one card's share of a batch
// (about 1 kB a message) stays under the broker's 1 MB limit on a partition's record batch.
const BATCH_SIZE = 500;
/**
 * After a wake-up, how long the relay lets further acceptances commit before it reads: at 90
 * requests/s nearly every acceptance woke a pass of its own (two statements and a produce request
 * for one message); waiting this long lets a pass carry what a few group commits wrote.
 */
const WAKE_UP_LINGER_MS = 5;

interface OutboxRow {
  sequence: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Publishes what intake accepted (the transactional outbox) with the idempotent producer, in order,
 * and deletes what the broker acknowledged. It works on a connection of its own, outside the pool
 * requests are accepted on, holding a session advisory lock that makes it the one relay among intake
 * replicas (the others wait to take over). Woken right after each acceptance; a wake-up during a pass
 * causes another pass; polls as a fallback and backs off while the broker or the database is away.
 * A crash between publishing and deleting publishes again: consumers deduplicate on command and
 * event ids.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private woken = false;
  private wakeUp?: () => void;
  private lastFailure?: Date;
  /** The relay's own session; the relay lock lives and dies with it. */
  private connection?: { client: Client; locked: boolean };

  constructor(
    private readonly producer: JsonProducer,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    @Inject(INTAKE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Called after requests committed: publish now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** False while the last attempt to publish failed: accepted requests wait in PostgreSQL. */
  isPublishing(): boolean {
    return this.lastFailure === undefined;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    // One last pass so requests accepted just before SIGTERM leave with this replica.
    await this.drain().catch(() => undefined);
    await this.disconnect();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.drain();
        failures = 0;
        this.lastFailure = undefined;
      } catch (error) {
        failures += 1;
        this.lastFailure = new Date();
        this.logger.warn({ err: error, failures }, 'outbox relay could not publish; accepted requests wait in the outbox');
        // The lock goes with the session: a replica that is up may take over meanwhile.
        await this.disconnect();
      }
      const pause = failures > 0 ? Math.min(5_000, 250 * 2 ** Math.min(failures, 5)) : this.config.INTAKE_OUTBOX_POLL_MS;
      await this.nextWakeUp(pause);
      if (this.running && failures === 0) await new Promise((resolve) => setTimeout(resolve, WAKE_UP_LINGER_MS));
    }
  }

  /** Resolves at a wake-up, including one that came since the last pass began, or after `pause`. */
  private nextWakeUp(pause: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pause);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.woken) this.wakeUp();
    });
  }

  /** Publishes everything in the outbox, oldest first, if this replica holds the relay lock. */
  private async drain(): Promise<void> {
    // Anything committed from here on is either read below or wakes another pass.
    this.woken = false;
    const connection = await this.relayConnection();
    if (!connection) return;
    for (let more = true; more; ) {
      const { rows } = await connection.query<OutboxRow>({
        name: 'outbox-oldest',
        text: 'SELECT sequence, topic, key, value, headers FROM outbox_messages ORDER BY sequence LIMIT $1',
        values: [BATCH_SIZE],
      });
      if (rows.length === 0) return;
      await this.producer.sendEncoded(rows);
      // Group commits draw sequence numbers under a lock held until they commit, so no row below
      // the last one read can still appear: the range is exactly what was published.
      await connection.query({ name: 'outbox-published', text: 'DELETE FROM outbox_messages WHERE sequence <= $1', values: [rows[rows.length - 1].sequence] });
      more = rows.length === BATCH_SIZE;
    }
  }

  /** This replica's relay connection once it holds the relay lock; undefined while another replica does. */
  private async relayConnection(): Promise<Client | undefined> {
    if (!this.connection) {
      const client = new Client({ connectionString: this.config.DATABASE_URL });
      // A lost connection surfaces as the next query's error; this only keeps the process alive.
      client.on('error', () => undefined);
      this.connection = { client, locked: false };
      await client.connect();
    }
    if (!this.connection.locked) {
      const { rows } = await this.connection.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK]);
      this.connection.locked = rows[0].locked;
    }
    return this.connection.locked ? this.connection.client : undefined;
  }

  private async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.client.end().catch(() => undefined);
  }
}
