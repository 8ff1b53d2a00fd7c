import { DEAD_LETTER_HEADERS, type StoredDeadLetter } from '@pinflow/kafka';
import { describeSkipped, formatList, formatReplays, historiesByLetter } from './dlq-cli';

const letter = (offset: string, reason: string, topic = 'pinflow.commands.pismo.v1'): StoredDeadLetter => ({
  partition: 0,
  offset,
  key: `card-${offset}`,
  value: null,
  headers: { [DEAD_LETTER_HEADERS.reason]: reason, [DEAD_LETTER_HEADERS.topic]: topic },
});

const history = historiesByLetter({
  replays: [
    { partition: 0, offset: '3', replayedAt: '2026-12-05T06:00:00.000Z', replayedBy: 'alice' },
    { partition: 0, offset: '4', replayedAt: '2026-12-05T06:05:00.000Z', replayedBy: 'bob' },
    { partition: 0, offset: '3', replayedAt: '2026-12-05T06:10:00.000Z', replayedBy: 'carol' },
    { partition: 1, offset: '3', replayedAt: '2026-12-05T06:20:00.000Z', replayedBy: 'dave' },
  ],
});

describe('npm run dlq: what it prints of the replay history', () => {
  it("keeps each letter's replays apart, oldest first, by partition and offset", () => {
    expect(history.get('0@3')).toEqual([
      { replayedAt: '2026-12-05T06:00:00.000Z', replayedBy: 'alice' },
      { replayedAt: '2026-12-05T06:10:00.000Z', replayedBy: 'carol' },
    ]);
    expect(history.get('1@3')).toEqual([{ replayedAt: '2026-12-05T06:20:00.000Z', replayedBy: 'dave' }]);
  });

  it('lists, per reason and source topic, the letters, how many were replayed, how often, and the last replay', () => {
    const letters = [letter('3', 'RETRIES_EXHAUSTED'), letter('4', 'RETRIES_EXHAUSTED'), letter('5', 'RETRIES_EXHAUSTED'), letter('6', 'UNTRUSTED', 'pinflow.events.v1')];

    expect(formatList(letters, 'pinflow.deadletter.v1', history)).toEqual([
      '4 dead letter(s) in pinflow.deadletter.v1, 2 of them replayed',
      '       3  RETRIES_EXHAUSTED  from pinflow.commands.pismo.v1  (2 replayed, 3 replay(s), the last at 2026-12-05T06:10:00.000Z by carol)',
      '       1  UNTRUSTED  from pinflow.events.v1',
    ]);
  });

  it('lists the letters without audit, per reason and source topic, saying their replays are unknown rather than none', () => {
    const letters = [letter('3', 'RETRIES_EXHAUSTED'), letter('4', 'RETRIES_EXHAUSTED'), letter('6', 'UNTRUSTED', 'pinflow.events.v1')];

    expect(formatList(letters, 'pinflow.deadletter.v1', { auditUnreachable: 'http://127.0.0.1:8081: connect ECONNREFUSED 127.0.0.1:8081' })).toEqual([
      '3 dead letter(s) in pinflow.deadletter.v1, replays unknown (audit unreachable: http://127.0.0.1:8081: connect ECONNREFUSED 127.0.0.1:8081)',
      '       2  RETRIES_EXHAUSTED  from pinflow.commands.pismo.v1',
      '       1  UNTRUSTED  from pinflow.events.v1',
    ]);
  });

  it("shows every replay of a letter, numbered, and nothing for a letter never replayed", () => {
    expect(formatReplays(history.get('0@3') ?? [])).toEqual(['  replay 1 at 2026-12-05T06:00:00.000Z by alice', '  replay 2 at 2026-12-05T06:10:00.000Z by carol']);
    expect(formatReplays([])).toEqual([]);
  });

  it('names the latest replay of a letter it skipped, and how to replay it anyway', () => {
    expect(describeSkipped('3', { replayedAt: '2026-12-05T06:10:00.000Z', replayedBy: 'carol' })).toBe(
      '#3 skipped: replayed at 2026-12-05T06:10:00.000Z by carol (--force replays it again)',
    );
  });
});
