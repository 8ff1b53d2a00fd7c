import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SqlPool } from '@pinflow/sql';
import { ScrapedGauge } from '@pinflow/metrics';

const outboxBacklog = new ScrapedGauge({
  name: 'pinflow_outbox_backlog',
  help: 'Messages accepted but not yet published to Kafka (rows of outbox_messages); the same table for every intake replica',
  labelNames: [],
});

const outboxOldestAge = new ScrapedGauge({
  name: 'pinflow_outbox_oldest_age_seconds',
  help: 'How long the oldest message in the outbox has waited to be published; 0 when the outbox is empty',
  labelNames: [],
});

/** Reads the outbox's backlog and age when Prometheus scrapes, never on the hot path. */
@Injectable()
export class OutboxMetrics implements OnApplicationBootstrap {
  constructor(private readonly pool: SqlPool) {}

  onApplicationBootstrap(): void {
    outboxBacklog.readFrom('outbox', async () => [{ labels: {}, value: await this.scalar('outbox-backlog', 'SELECT count(*)::float8 AS value FROM outbox_messages') }]);
    outboxOldestAge.readFrom('outbox', async () => [
      {
        labels: {},
        value: await this.scalar(
          'outbox-oldest-age',
          // The oldest row is the lowest sequence: one step down the primary key.
          'SELECT coalesce(extract(epoch FROM now() - (SELECT created_at FROM outbox_messages ORDER BY sequence LIMIT 1)), 0)::float8 AS value',
        ),
      },
    ]);
  }

  private async scalar(name: string, text: string): Promise<number> {
    const { rows } = await this.pool.query<{ value: number }>({ name, text });
    return rows[0].value;
  }
}
