import { CallLog, MAX_RECORDED_CALLS } from './call-log';

const OPERATIONS = ['pinChanges', 'triesIncreases', 'triesResets'] as const;

describe('CallLog', () => {
  it('records calls in arrival order, each without a status until it is answered', () => {
    const log = new CallLog(OPERATIONS);
    const first = log.record({ at: 't1', method: 'PUT', path: '/pcicards/v2/pcicards/card/1', cardId: '1', cid: 'a' });
    log.record({ at: 't2', method: 'POST', path: '/wallet/v2/cards/2/password-tries/increase', cardId: '2', cid: 'b' });
    first.status = 201;
    expect(log.allCalls().map((call) => [call.cid, call.status])).toEqual([
      ['a', 201],
      ['b', null],
    ]);
  });

  it('counts applied operations per key, listing every operation of the sandbox', () => {
    const log = new CallLog(OPERATIONS);
    log.countApplied('a', 'pinChanges');
    log.countApplied('a', 'pinChanges');
    log.countApplied('b', 'triesIncreases');
    expect(log.appliedByKey()).toEqual({
      a: { pinChanges: 2, triesIncreases: 0, triesResets: 0 },
      b: { pinChanges: 0, triesIncreases: 1, triesResets: 0 },
    });
  });

  it('refuses to count an operation the sandbox did not declare', () => {
    const log = new CallLog<string>(OPERATIONS);
    expect(() => log.countApplied('a', 'pinchanges')).toThrow('unknown operation pinchanges');
    expect(log.appliedByKey()).toEqual({});
  });

  it('drops the oldest calls once the bound is passed', () => {
    const log = new CallLog(OPERATIONS);
    for (let i = 0; i <= MAX_RECORDED_CALLS; i += 1) log.record({ at: String(i), method: 'GET', path: '/', cardId: null, cid: String(i) });
    const calls = log.allCalls();
    expect(calls.length).toBeLessThanOrEqual(MAX_RECORDED_CALLS);
    expect(calls.at(-1)?.cid).toBe(String(MAX_RECORDED_CALLS));
    expect(calls[0].cid).not.toBe('0');
  });

  it('drops the applied counts of the keys counted first once the bound is passed', () => {
    const log = new CallLog(OPERATIONS);
    for (let i = 0; i <= MAX_RECORDED_CALLS; i += 1) log.countApplied(String(i), 'pinChanges');
    log.countApplied(String(MAX_RECORDED_CALLS), 'pinChanges');
    const applied = log.appliedByKey();
    expect(Object.keys(applied).length).toBeLessThanOrEqual(MAX_RECORDED_CALLS);
    expect(applied[String(MAX_RECORDED_CALLS)].pinChanges).toBe(2);
    expect(applied['0']).toBeUndefined();
  });

  it('forgets everything on clear', () => {
    const log = new CallLog(OPERATIONS);
    log.record({ at: 't', method: 'GET', path: '/', cardId: null, cid: 'a' });
    log.countApplied('a', 'triesResets');
    log.clear();
    expect(log.allCalls()).toEqual([]);
    expect(log.appliedByKey()).toEqual({});
  });
});
