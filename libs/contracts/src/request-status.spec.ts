import { EVENT_TYPES, requestStatusOf as requestStatus } from './events';

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

  it.each([EVENT_TYPES.issuerScriptAppended, EVENT_TYPES.passwordTriesReset, EVENT_TYPES.verificationCodeSent, EVENT_TYPES.verificationCodeChecked])('is succeeded once the operation’s own outcome %s arrives', (outcome) => {
    expect(requestStatus([accepted, outcome])).toBe('succeeded');
  });

  it('is failed when a failure is the only outcome', () => {
    expect(requestStatus([accepted, failed])).toBe('failed');
    expect(requestStatus([accepted, failed, issuerScriptRequested])).toBe('failed');
  });

  it('is succeeded when the vendor confirms the change after a failure of unknown outcome', () => {
    expect(requestStatus([accepted, failed, passwordChanged])).toBe('succeeded');
  });

  it('is unknown when neither the acceptance nor an outcome is on record', () => {
    expect(requestStatus([issuerScriptRequested])).toBe('unknown');
    expect(requestStatus([])).toBe('unknown');
  });

  it('trusts an outcome even while the acceptance is missing from the trail', () => {
    expect(requestStatus([passwordChanged])).toBe('succeeded');
    expect(requestStatus([failed])).toBe('failed');
  });
});
