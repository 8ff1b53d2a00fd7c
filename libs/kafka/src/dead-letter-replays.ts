import type { SqlPool } from '@pinflow/sql';
import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from './dead-letters';
import { replayDeadLetters, type StoredDeadLetter } from './dead-letter-queue';

/** When and by whom a dead letter was replayed. */
export interface ReplayRecord {
  replayedAt: string;
  replayedBy: string;
}

/** One entry of the replay history: which letter, and its replay. */
export interface LetterReplay extends ReplayRecord {
  partition: number;
  offset: string;
}

/** A letter's place on the dead-letter topic, which names it for good. */
type LetterPlace = Pick<StoredDeadLetter, 'partition' | 'offset'>;

/** What replaying a letter once came to: replayed now (`record` is this replay), or not, having been replayed before (`record` is the latest). */
export interface ReplayOutcome {
  replayed: boolean;
  record: ReplayRecord;
}

/** The key historiesOf answers by. */
export function replayKeyOf(letter: LetterPlace): string {
  return `${letter.partition}@${letter.offset}`;
}

type ReplayRow = { partition: number; offset: string; sequence: number; replayedAt: Date; replayedBy: string };

const toRecord = (row: Pick<ReplayRow, 'replayedAt' | 'replayedBy'>): ReplayRecord => ({ replayedAt: row.replayedAt.toISOString(), replayedBy: row.replayedBy });

const REPLAY_COLUMNS = `"partition", "offset"::text AS "offset", sequence, replayed_at AS "replayedAt", replayed_by AS "replayedBy"`;

/**
 * Forced replays of one letter racing each other each take the next number; one that loses a race
 * takes the number after. More losses in a row than this means something else is wrong.
 */
const MAX_FORCED_CLAIM_ATTEMPTS = 5;

/**
 * dead_letter_replays: every replay operators made, oldest first per letter. A replayed letter stays
 * on the topic, so this is what keeps the console and the CLI from replaying it twice by accident: a
 * replay is claimed here first (the letter's first replay is unique, so only one of two operators
 * racing gets it; a forced one appends), published, and its claim deleted if publishing fails.
 */
export class DeadLetterReplays {
  constructor(private readonly pool: SqlPool) {}

  /** Every replay of these letters, oldest first, by `partition@offset`; a letter never replayed has no entry. */
  async historiesOf(letters: readonly LetterPlace[]): Promise<Map<string, ReplayRecord[]>> {
    if (letters.length === 0) return new Map();
    const { rows } = await this.pool.query<ReplayRow>({
      name: 'dead-letter-replays-of',
      text: `SELECT ${REPLAY_COLUMNS} FROM dead_letter_replays
             WHERE topic = $1 AND ("partition", "offset") IN (SELECT * FROM unnest($2::int[], $3::bigint[]))
             ORDER BY "partition", "offset", sequence`,
      values: [DEAD_LETTER_TOPIC, letters.map((letter) => letter.partition), letters.map((letter) => letter.offset)],
    });
    const histories = new Map<string, ReplayRecord[]>();
    for (const row of rows) {
      const key = replayKeyOf(row);
      histories.set(key, [...(histories.get(key) ?? []), toRecord(row)]);
    }
    return histories;
  }

  /** The whole history, oldest first: what the CLI asks for, as it reads the letters themselves from Kafka. */
  async history(): Promise<LetterReplay[]> {
    const { rows } = await this.pool.query<ReplayRow>({
      name: 'dead-letter-replays-history',
      text: `SELECT ${REPLAY_COLUMNS} FROM dead_letter_replays WHERE topic = $1 ORDER BY replayed_at, "partition", "offset", sequence`,
      values: [DEAD_LETTER_TOPIC],
    });
    return rows.map((row) => ({ partition: row.partition, offset: row.offset, ...toRecord(row) }));
  }

  /**
   * Republishes the letter to the topic it came from, unless it was replayed before: then only when
   * `force`, which adds this replay to the earlier ones.
   */
  async replayOnce(kafka: Kafka, letter: StoredDeadLetter, replayedBy: string, force = false): Promise<ReplayOutcome> {
    const claimed = force ? await this.claimNext(letter, replayedBy) : await this.claimFirst(letter, replayedBy);
    if (!claimed) return { replayed: false, record: await this.latest(letter) };
    try {
      await replayDeadLetters(kafka, [letter]);
    } catch (error) {
      await this.release(letter, claimed.sequence);
      throw error;
    }
    return { replayed: true, record: toRecord(claimed) };
  }

  /** The letter's first replay, or nothing if it has one already. */
  private async claimFirst(letter: StoredDeadLetter, replayedBy: string): Promise<ReplayRow | undefined> {
    const { rows } = await this.pool.query<ReplayRow>({
      name: 'dead-letter-replays-claim-first',
      text: `INSERT INTO dead_letter_replays (topic, "partition", "offset", sequence, source_topic, replayed_by) VALUES ($1, $2, $3::bigint, 1, $4, $5)
             ON CONFLICT DO NOTHING RETURNING ${REPLAY_COLUMNS}`,
      values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset, sourceTopicOf(letter), replayedBy],
    });
    return rows[0];
  }

  /** The letter's next replay, whatever came before. */
  private async claimNext(letter: StoredDeadLetter, replayedBy: string): Promise<ReplayRow> {
    for (let attempt = 1; attempt <= MAX_FORCED_CLAIM_ATTEMPTS; attempt += 1) {
      const { rows } = await this.pool.query<ReplayRow>({
        name: 'dead-letter-replays-claim-next',
        text: `INSERT INTO dead_letter_replays (topic, "partition", "offset", sequence, source_topic, replayed_by)
               SELECT $1, $2, $3::bigint, COALESCE(MAX(sequence), 0) + 1, $4, $5 FROM dead_letter_replays WHERE topic = $1 AND "partition" = $2 AND "offset" = $3::bigint
               ON CONFLICT DO NOTHING RETURNING ${REPLAY_COLUMNS}`,
        values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset, sourceTopicOf(letter), replayedBy],
      });
      if (rows[0]) return rows[0];
    }
    throw new Error(`dead letter ${replayKeyOf(letter)}: lost ${MAX_FORCED_CLAIM_ATTEMPTS} races in a row for its next replay number`);
  }

  /** The letter's latest replay: asked in a statement of its own, so it sees the one a racing claim just committed. */
  private async latest(letter: LetterPlace): Promise<ReplayRecord> {
    const { rows } = await this.pool.query<ReplayRow>({
      name: 'dead-letter-replays-latest',
      text: `SELECT ${REPLAY_COLUMNS} FROM dead_letter_replays WHERE topic = $1 AND "partition" = $2 AND "offset" = $3::bigint ORDER BY sequence DESC LIMIT 1`,
      values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset],
    });
    if (!rows[0]) throw new Error(`dead letter ${replayKeyOf(letter)} could neither be claimed for a replay nor found replayed`);
    return toRecord(rows[0]);
  }

  /** A claim whose publishing failed: that replay did not happen, so it leaves no entry. */
  private async release(letter: LetterPlace, sequence: number): Promise<void> {
    await this.pool.query({
      name: 'dead-letter-replays-release',
      text: 'DELETE FROM dead_letter_replays WHERE topic = $1 AND "partition" = $2 AND "offset" = $3::bigint AND sequence = $4',
      values: [DEAD_LETTER_TOPIC, letter.partition, letter.offset, sequence],
    });
  }
}

function sourceTopicOf(letter: StoredDeadLetter): string {
  return letter.headers[DEAD_LETTER_HEADERS.topic] ?? '';
}
