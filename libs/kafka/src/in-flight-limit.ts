/**
 * At most `limit` tasks at once, the others waiting their turn in the order they came: e.g. the
 * messages of all a consumer's partitions share one.
 */
export class InFlightLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Waits for a place; the returned function gives it back. */
  async acquire(): Promise<() => void> {
    if (this.running < this.limit) this.running += 1;
    // A finishing task hands its place over directly, so a newcomer cannot overtake the waiting.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
