import { CallPermit, CircuitBreaker, CircuitState } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let clock: number;
  let changes: [CircuitState, number][];
  const policy = { threshold: 3, cooldownMs: 10_000 };

  const breaker = () => new CircuitBreaker(policy, (state, failures) => changes.push([state, failures]), () => clock);

  /** A call made through the breaker, ending as told. */
  function call(circuit: CircuitBreaker, failed: boolean): CallPermit {
    const permit = circuit.tryAcquire();
    if (!permit) throw new Error('no permit');
    circuit.record(permit, failed);
    return permit;
  }

  beforeEach(() => {
    clock = 1_000_000;
    changes = [];
  });

  it('stays closed while failures in a row stay below the threshold; an answer in between starts the count over', () => {
    const circuit = breaker();
    call(circuit, true);
    call(circuit, true);
    call(circuit, false);
    call(circuit, true);
    call(circuit, true);

    expect(circuit.state).toBe('closed');
    expect(circuit.tryAcquire()).toEqual({ probe: false });
    expect(changes).toEqual([]);
  });

  it('opens at the threshold and lets no call through until the cool-down is over', () => {
    const circuit = breaker();
    for (let failure = 0; failure < 3; failure += 1) call(circuit, true);

    expect(circuit.state).toBe('open');
    expect(changes).toEqual([['open', 3]]);
    clock += 9_999;
    expect(circuit.tryAcquire()).toBeUndefined();
  });

  it('after the cool-down lets one probe through; its answer closes the circuit for every caller', () => {
    const circuit = breaker();
    for (let failure = 0; failure < 3; failure += 1) call(circuit, true);
    clock += 10_000;

    const probe = circuit.tryAcquire();
    expect(probe).toEqual({ probe: true });
    expect(circuit.state).toBe('half-open');
    expect(circuit.tryAcquire()).toBeUndefined();

    circuit.record(probe!, false);
    expect(circuit.state).toBe('closed');
    expect(circuit.tryAcquire()).toEqual({ probe: false });
    expect(changes.map(([state]) => state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again for a whole cool-down when the probe fails', () => {
    const circuit = breaker();
    for (let failure = 0; failure < 3; failure += 1) call(circuit, true);
    clock += 10_000;
    call(circuit, true);

    expect(circuit.state).toBe('open');
    clock += 9_999;
    expect(circuit.tryAcquire()).toBeUndefined();
    clock += 1;
    expect(circuit.tryAcquire()).toEqual({ probe: true });
  });

  it('lets another caller probe when the probe made no call after all', () => {
    const circuit = breaker();
    for (let failure = 0; failure < 3; failure += 1) call(circuit, true);
    clock += 10_000;
    circuit.record(circuit.tryAcquire()!, undefined);

    expect(circuit.tryAcquire()).toEqual({ probe: true });
  });

  it('is not moved by calls that started before it opened: the probe decides', () => {
    const circuit = breaker();
    const early = circuit.tryAcquire()!;
    for (let failure = 0; failure < 3; failure += 1) call(circuit, true);

    circuit.record(early, false);
    expect(circuit.state).toBe('open');
  });

  it('makes waiting callers heartbeat while it is open, and lets them all go once the probe succeeds', async () => {
    const circuit = new CircuitBreaker({ threshold: 1, cooldownMs: 50 });
    call(circuit, true);
    let heartbeats = 0;
    const heartbeat = async () => {
      heartbeats += 1;
    };

    const first = await circuit.permit(heartbeat);
    expect(first).toEqual({ probe: true });
    let secondGot: CallPermit | undefined;
    const second = circuit.permit(heartbeat).then((permit) => (secondGot = permit));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(secondGot).toBeUndefined();

    circuit.record(first, false);
    await second;
    expect(secondGot).toEqual({ probe: false });
    expect(heartbeats).toBeGreaterThanOrEqual(3);
  });
});
