import { refusedOutside } from './drill';
import type { SentCommand } from './stream';

describe('refused requests a fault does not explain', () => {
  const fault = { start: 100_000, end: 130_000 };
  const command = (name: string, sentAt: number, refusedAt?: number): SentCommand => ({
    vendor: 'pismo',
    cardId: name,
    attempts: 3,
    sentAt,
    ...(refusedAt === undefined ? { requestId: `request-${name}`, acceptedAt: sentAt + 50 } : { refused: 'HTTP 503 TEMPORARILY_UNAVAILABLE', refusedAt }),
  });

  it('counts a refusal whose attempts ended before the fault, or began after its repair', () => {
    const before = command('before', 10_000, 70_000);
    const after = command('after', 131_000, 191_000);

    expect(refusedOutside([before, after], fault)).toEqual([before, after]);
  });

  it('leaves out refusals whose retries met the fault, wherever they began, and every accepted request', () => {
    const retriedIntoTheFault = command('retried-into-the-fault', 60_000, 120_000);
    const during = command('during', 110_000, 170_000);
    const sentAtTheRepair = command('sent-at-the-repair', 130_000, 130_500);
    const accepted = command('accepted', 140_000);

    expect(refusedOutside([retriedIntoTheFault, during, sentAtTheRepair, accepted], fault)).toEqual([]);
  });
});
