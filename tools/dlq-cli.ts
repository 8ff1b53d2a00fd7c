import { DEAD_LETTER_HEADERS, replayKeyOf, type ReplayRecord, type StoredDeadLetter } from '@pinflow/kafka';
import { z } from 'zod';

/** audit's answers `npm run dlq` reads: its replay history, a replay made and a replay refused. */
const replayRecord = z.object({ replayedAt: z.string(), replayedBy: z.string() });
export const replayHistory = z.object({ replays: z.array(replayRecord.extend({ partition: z.number().int(), offset: z.string() })) });
export const replayMade = z.object({ replayed: z.object({ offset: z.string(), replays: z.array(replayRecord) }) });
export const replayRefused = z.looseObject({ code: z.literal('DEAD_LETTER_ALREADY_REPLAYED'), ...replayRecord.shape });

/** Every letter's replays, oldest first, by `partition@offset`, from audit's history. */
export function historiesByLetter(history: z.output<typeof replayHistory>): Map<string, ReplayRecord[]> {
  const histories = new Map<string, ReplayRecord[]>();
  for (const { partition, offset, replayedAt, replayedBy } of history.replays) {
    const key = replayKeyOf({ partition, offset });
    histories.set(key, [...(histories.get(key) ?? []), { replayedAt, replayedBy }]);
  }
  return histories;
}

const describeReplay = (record: ReplayRecord) => `at ${record.replayedAt} by ${record.replayedBy}`;

/** Replay histories audit could not be asked for: why, for the line that says the replays are unknown. */
export interface ReplaysUnknown {
  auditUnreachable: string;
}

/** Every letter's replays, or why they are unknown: the letters on Kafka are worth reading without audit. */
export type ReplayHistories = ReadonlyMap<string, ReplayRecord[]> | ReplaysUnknown;

export const describeReplaysUnknown = (unknown: ReplaysUnknown) => `replays unknown (audit unreachable: ${unknown.auditUnreachable})`;

/**
 * `list`: the letters counted by reason and source topic, and how many of each were replayed, how often
 * and last when; without audit, the letters alone, saying their replays are unknown (never "0 replayed").
 */
export function formatList(letters: readonly StoredDeadLetter[], topic: string, histories: ReplayHistories): string[] {
  if ('auditUnreachable' in histories) {
    const counts = new Map<string, number>();
    for (const letter of letters) counts.set(groupOf(letter), (counts.get(groupOf(letter)) ?? 0) + 1);
    return [
      `${letters.length} dead letter(s) in ${topic}, ${describeReplaysUnknown(histories)}`,
      ...[...counts].map(([name, count]) => `  ${String(count).padStart(6)}  ${name}`),
    ];
  }
  const groups = new Map<string, { letters: number; replayed: number; replays: number; last?: ReplayRecord }>();
  for (const letter of letters) {
    const name = groupOf(letter);
    const group = groups.get(name) ?? { letters: 0, replayed: 0, replays: 0 };
    const history = histories.get(replayKeyOf(letter)) ?? [];
    const last = history.at(-1);
    groups.set(name, {
      letters: group.letters + 1,
      replayed: group.replayed + (history.length > 0 ? 1 : 0),
      replays: group.replays + history.length,
      last: last && (!group.last || last.replayedAt > group.last.replayedAt) ? last : group.last,
    });
  }
  const replayed = [...groups.values()].reduce((sum, group) => sum + group.replayed, 0);
  return [
    `${letters.length} dead letter(s) in ${topic}, ${replayed} of them replayed`,
    ...[...groups].map(
      ([name, group]) =>
        `  ${String(group.letters).padStart(6)}  ${name}` +
        (group.last ? `  (${group.replayed} replayed, ${group.replays} replay(s), the last ${describeReplay(group.last)})` : ''),
    ),
  ];
}

/** The reason a letter was parked and the topic it came from: what `list` counts by. */
const groupOf = (letter: StoredDeadLetter) => `${letter.headers[DEAD_LETTER_HEADERS.reason]}  from ${letter.headers[DEAD_LETTER_HEADERS.topic]}`;

/** `inspect`: the letter's line, then every replay of it, oldest first. */
export function formatReplays(history: readonly ReplayRecord[]): string[] {
  return history.map((record, index) => `  replay ${index + 1} ${describeReplay(record)}`);
}

/** `replay`, for a letter audit refused to replay again. */
export function describeSkipped(offset: string, latest: ReplayRecord): string {
  return `#${offset} skipped: replayed ${describeReplay(latest)} (--force replays it again)`;
}
