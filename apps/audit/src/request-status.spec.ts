import { EVENT_TYPES } from '@pinflow/contracts';
import { requestStatus } from './request-status';

describe('a request status derived from its audit trail', () => {
  const { accepted, passwordChanged, passwordTriesIncreased, issuerScriptRequested, cardBlocked, failed } = EVENT_TYPES;

  it('is accepted while only the acceptance (and progress without an outcome) is known', () => {
    expect(requestStatus([accepted])).toBe('accepted');
    expect(requestStatus([accepted, issuerScriptRequested])).toBe('accepted');
  });

  it('is succeeded once the PIN changed or the tries were increased', () => {
    expect(requestStatus([accepted, passwordChanged])).toBe('succeeded');
    expect(requestStatus([accepted, passwordTriesIncreased, cardBlocked])).toBe('succeeded');
  });

  it('is failed when any event says so, even next to a success', () => {
    expect(requestStatus([accepted, failed])).toBe('failed');
    expect(requestStatus([accepted, failed, passwordChanged])).toBe('failed');
    expect(requestStatus([accepted, passwordChanged, failed])).toBe('failed');
  });

  it('is unknown when neither the acceptance nor an outcome is on record', () => {
    expect(requestStatus([issuerScriptRequested])).toBe('unknown');
    expect(requestStatus([])).toBe('unknown');
  });

  it('takes an outcome without its acceptance at its word (events of one request may arrive out of order)', () => {
    expect(requestStatus([passwordChanged])).toBe('succeeded');
    expect(requestStatus([failed])).toBe('failed');
  });
});
