import { Coalescer } from './coalescer';

/** A run that records each batch it got and answers every input doubled. */
function recordingRun(batches: number[][], gate?: Promise<void>) {
  return async (inputs: number[]) => {
    batches.push([...inputs]);
    await gate;
    return inputs.map((input) => input * 2);
  };
}

describe('Coalescer', () => {
  it('answers calls made together with one run, each caller with its own answer', async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer(recordingRun(batches), { maxBatch: 10 });

    await expect(Promise.all([1, 2, 3].map((input) => coalescer.submit(input)))).resolves.toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('gathers the calls made while a run is under way into the next run', async () => {
    const batches: number[][] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const coalescer = new Coalescer(recordingRun(batches, gate), { maxBatch: 10 });

    const first = coalescer.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [coalescer.submit(2), coalescer.submit(3)];
    open();

    await expect(Promise.all([first, ...later])).resolves.toEqual([2, 4, 6]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('runs at most maxBatch inputs at a time', async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer(recordingRun(batches), { maxBatch: 2 });

    await Promise.all([1, 2, 3, 4, 5].map((input) => coalescer.submit(input)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('keeps inputs with the same key out of one run, in the order they came', async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer(recordingRun(batches), { maxBatch: 10, keyOf: (input) => String(input % 10) });

    await expect(Promise.all([1, 11, 2, 21].map((input) => coalescer.submit(input)))).resolves.toEqual([2, 22, 4, 42]);
    expect(batches).toEqual([[1, 2], [11], [21]]);
  });

  it('fails only the callers of a run that throws, and goes on with the next', async () => {
    let runs = 0;
    const coalescer = new Coalescer(
      async (inputs: number[]) => {
        runs += 1;
        if (runs === 1) throw new Error('database away');
        return inputs;
      },
      { maxBatch: 10 },
    );

    const failed = Promise.allSettled([coalescer.submit(1), coalescer.submit(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    const next = coalescer.submit(3);

    expect((await failed).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(next).resolves.toBe(3);
  });

  it('refuses a run that answers a different number of inputs than it got', async () => {
    const coalescer = new Coalescer(async () => [1], { maxBatch: 10 });

    await expect(Promise.all([coalescer.submit(1), coalescer.submit(2)])).rejects.toThrow('a batch of 2 got 1 answers');
  });
});
