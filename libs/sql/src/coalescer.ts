export interface CoalescerOptions<Input> {
  /** Most inputs one run takes; the rest wait for the next run. */
  maxBatch: number;
  /**
   * Inputs with equal keys never share a run: a later one waits for the next run, so that a
   * multi-row statement never meets the same row twice and each input gets its own answer.
   */
  keyOf?: (input: Input) => string;
}

interface Queued<Input, Output> {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

/**
 * Turns one-at-a-time calls into batches: what callers submit while a run is under way (or in the
 * same turn of the event loop) goes into the next run, one multi-row statement for all of them. Runs
 * go one at a time, so under load batches grow by themselves, and alone a call waits for nothing.
 *
 * Written here rather than taken from DataLoader, which dispatches every tick's batch at once and
 * cannot hold back an input whose key its batch already has.
 *
 * `run` answers each input in order, or throws, which fails that run's callers only.
 */
export class Coalescer<Input, Output> {
  private queue: Queued<Input, Output>[] = [];
  private running = false;

  constructor(
    private readonly run: (inputs: Input[]) => Promise<Output[]>,
    private readonly options: CoalescerOptions<Input>,
  ) {}

  submit(input: Input): Promise<Output> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.running) return;
      this.running = true;
      // Calls made in the same turn of the event loop join the first run.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        const outputs = await this.run(batch.map((queued) => queued.input));
        if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outputs.length} answers`);
        batch.forEach((queued, index) => queued.resolve(outputs[index]));
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.running = false;
  }

  private takeBatch(): Queued<Input, Output>[] {
    const { keyOf, maxBatch } = this.options;
    if (!keyOf) return this.queue.splice(0, maxBatch);
    const batch: Queued<Input, Output>[] = [];
    const keys = new Set<string>();
    const waiting: Queued<Input, Output>[] = [];
    for (const queued of this.queue) {
      const key = keyOf(queued.input);
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(queued);
      } else {
        waiting.push(queued);
      }
    }
    this.queue = waiting;
    return batch;
  }
}
