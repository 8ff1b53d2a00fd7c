import type { SqlPool } from '@pinflow/sql';
import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from './dead-letters';
import { replayDeadLetters, type StoredDeadLetter } from './dead-letter-queue';

/** When and by whom a dead letter was replayed. */
export interface ReplayRecord {
  replayedAt: string;
  replayedBy: string;
}

/** A letter's place on the dead-letter topic, which names it for good. */
type LetterPlace = Pick<StoredDeadLetter, 'partition' | 'offset'>;

/** What replaying a letter once came to: replayed now, or not, having been replayed before (`record` says when). */
export interface ReplayOutcome {
  replayed: boolean;
  record: ReplayRecord;
}

/** The key recordsOf answers by. */
export function replayKeyOf(letter: LetterPlace): string {
  return `${letter.partition}@${letter.offset}`;
}

type ReplayRow = { partition: number; offset: string; replayedAt: Date; replayedBy: string };

const toRecord = (row: ReplayRow): ReplayRecord => ({ replayedAt: row.replayedAt.toISOString(), replayedBy: row.replayedBy });

/**
 * dead_letter_replays: the letters operators replayed. A replayed letter stays on the topic, so
 * this is what keeps the console and the CLI from replaying it twice by accident: a replay is claimed
 * here first (only one of two operators racing gets it), published, and released if publishing fails.
 */
export class DeadLetterReplays {
  constructor(private readonly pool: SqlPool) {}

  /** The replays of these letters, by `partition@offset`. */
  async recordsOf(letters: readonly LetterPlace[]): Promise<Map<string, ReplayRecord>> {
    if (letters.length === 0) return new Map();
    const { rows } = await this.pool.query<ReplayRow>({
      name: 'dead-letter-replays-of',
      text: `SELECT "partition", "offset"::text AS "offset", replayed_at AS "replayedAt", replayed_by AS "replayedBy" FROM dead_letter_replays
             WHERE topic = $1 AND ("partition", "offset") IN (SELECT * FROM unnest($2::int[], $3::bigint[]))`,
      values: [DEAD_LETTER_TOPIC, letters.map((letter) => letter.partition), letters.map((letter) => letter.offset)],
    });
    return new Map(rows.map((row) => [replayKeyOf(row), toRecord(row)]));
  }

  /**
   * Republishes the letter to the topic it came from, unless it was replayed before: then only when
   * `force`, which records this replay in place of the earlier one.
   */
  async replayOnce(kafka: Kafka, letter: StoredDeadLetter, replayedBy: string, force = false): Promise<ReplayOutcome> {
    const claimed = await this.claim(letter, replayedBy, force);
    if (!claimed.replayed) return claimed;
    try {
      await replayDeadLetters(kafka, [letter]);
    } catch (error) {
      if (!force) await this.release(letter);
      throw error;
    }
    return claimed;
  }

  private async claim(letter: StoredDeadLetter, replayedBy: string, force: boolean): Promise<ReplayOutcome> {
    const { rows } = await this.pool.query<ReplayRow & { replayed: boolean }>({
      name: force ? 'dead-letter-replays-claim-forced' : 'dead-letter-replays-claim',
      text: `WITH claimed AS (
               INSERT INTO dead_letter_replays (topic, "partition", "offset", source_topic, replayed_by) VALUES ($1, $2, $3::bigint, $4, $5)
               ON CONFLICT (topic, "partition", "offset") ${force ? 'DO UPDATE SET replayed_by = EXCLUDED.replayed_by, replayed_at = now()' : 'DO NOTHING'}
               RETURNING replayed_at AS "replayedAt", replayed_by AS "replayedBy")
             SELECT true AS replayed, * FROM claimed
             UNION ALL
             SELECT false, replayed_at, replayed_by FROM dead_letter_replays
              WHERE topic = $1 AND "partition" = $2 AND "offset" = $3::bigint AND NOT EXISTS (SELECT FROM claimed)`,
      values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset, letter.headers[DEAD_LETTER_HEADERS.topic] ?? '', replayedBy],
    });
    if (rows.length === 1) return { replayed: rows[0].replayed, record: toRecord(rows[0]) };
    // Another operator's claim committed while this statement ran, after its snapshot: a new one sees it.
    const record = (await this.recordsOf([letter])).get(replayKeyOf(letter));
    if (!record) throw new Error(`dead letter ${replayKeyOf(letter)} could neither be claimed for a replay nor found replayed`);
    return { replayed: false, record };
  }

  private async release(letter: LetterPlace): Promise<void> {
    await this.pool.query({
      name: 'dead-letter-replays-release',
      text: 'DELETE FROM dead_letter_replays WHERE topic = $1 AND "partition" = $2 AND "offset" = $3::bigint',
      values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset],
    });
  }
}
