import { runInNewContext } from 'node:vm';
import { EVENT_TYPES } from './events';
import { describeOutcome, outcomeWordingScript, type OutcomeWording } from './outcome-wording';

const EXAMPLES: [string, unknown][] = [
  [EVENT_TYPES.failed, { reason: 'VENDOR_REJECTED', vendorStatus: 422, vendorError: { code: 'WRN0001', detail: 'card is closed' } }],
  [EVENT_TYPES.failed, { reason: 'VENDOR_UNAVAILABLE' }],
  [EVENT_TYPES.failed, { reason: { nested: 'not shown' }, vendorError: 'not an object' }],
  [EVENT_TYPES.rejected, { problem: { code: 'PIN_TOO_WEAK' } }],
  [EVENT_TYPES.rejected, null],
  [EVENT_TYPES.accepted, { vendor: 'pismo' }],
  [EVENT_TYPES.passwordChanged, { vendor: 'pismo' }],
];

describe('the wording of outcomes', () => {
  it('names a failure’s reason and the vendor’s answer, a rejection’s problem code, and nothing else the event holds', () => {
    expect(EXAMPLES.map(([type, data]) => describeOutcome(type, data))).toEqual([
      { text: 'failed VENDOR_REJECTED (vendor HTTP 422 WRN0001)', kind: 'failed' },
      { text: 'failed VENDOR_UNAVAILABLE', kind: 'failed' },
      { text: 'failed ?', kind: 'failed' },
      { text: 'rejected PIN_TOO_WEAK', kind: 'rejected' },
      { text: 'rejected ?', kind: 'rejected' },
      { text: 'accepted', kind: 'accepted' },
      { text: 'succeeded', kind: 'succeeded' },
    ]);
  });

  it('is the same function in the script audit serves to the console, run as a browser would', () => {
    const window: { pinflowOutcome?: (type: string, data: unknown) => OutcomeWording } = {};
    runInNewContext(outcomeWordingScript(), { window });

    for (const [type, data] of EXAMPLES) expect(window.pinflowOutcome!(type, data)).toEqual(describeOutcome(type, data));
  });
});
